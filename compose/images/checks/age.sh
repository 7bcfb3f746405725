#!/bin/sh
# hoss-local/age:local: age and age-keygen on PATH, Debian's 1.1.x, and a
# round trip to two recipients, each key opening the file, another key and a
# flipped byte refused (`!` would not stop `sh -e`, hence the ifs).
check_name=age
. "$(dirname "$0")/common.sh"
img=hoss-local/age:local
scratch=$(mktemp -d)
run() { docker run --rm --network none -v "$scratch:/work" "$img" sh -euc "$1"; }

version=$(docker run --rm "$img")
case $version in v1.1.*|1.1.*) ;; *) fail "age --version says $version, expected 1.1.x" ;; esac
step "age $version"
run '
  for k in one two three; do age-keygen -o $k.key 2>/dev/null; age-keygen -y $k.key >> recipients.$k; done
  cat recipients.one recipients.two > recipients
  head -c 200000 /dev/urandom > plain
  age -R recipients -o sealed.age plain
  age -d -i one.key sealed.age | cmp - plain
  age -d -i two.key sealed.age | cmp - plain
  if age -d -i three.key sealed.age >/dev/null 2>&1; then echo "another key opened it" >&2; exit 1; fi
  b=$(dd if=sealed.age bs=1 skip=1000 count=1 2>/dev/null | od -An -tu1 | tr -d " ")
  head -c 1000 sealed.age > flipped.age
  printf "\\$(printf %o $(( (b + 1) % 256 )))" >> flipped.age
  tail -c +1002 sealed.age >> flipped.age
  if cmp -s flipped.age sealed.age; then echo "no byte was flipped" >&2; exit 1; fi
  if age -d -i one.key flipped.age >/dev/null 2>&1; then echo "a flipped byte was accepted" >&2; exit 1; fi
' || fail "round trip"
step "two recipients, a wrong key and a flipped byte: ok"
