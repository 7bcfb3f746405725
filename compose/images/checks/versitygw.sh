#!/bin/sh
# hoss-local/versitygw:local: refuses to start without root keys, answers
# /health, refuses an unsigned request, and keeps an object's bytes, content
# type, metadata and tags through a signed PUT and GET (the objectstore
# kind's own S3 client, run from the host against the container's address).
check_name=versitygw
. "$(dirname "$0")/common.sh"
img=hoss-local/versitygw:local
root=$(CDPATH= cd -- "$(dirname -- "$0")/../../.." && pwd)

docker run --rm "$img" >/dev/null 2>&1 && fail "started without root keys"
step "refuses to start without ROOT_ACCESS_KEY/ROOT_SECRET_KEY: ok"

docker run -d --name "$prefix-s3" --network "$net" -e ROOT_ACCESS_KEY=checkaccess -e ROOT_SECRET_KEY=checksecret-0123456789 "$img" >/dev/null
ip=$(ip_of "$prefix-s3")
health() { docker exec "$prefix-s3" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9000 && printf "GET /health HTTP/1.0\r\n\r\n" >&3 && head -1 <&3' | grep -q ' 200'; }
wait_for 60 health || fail "no 200 from /health within 60 s"
step "GET /health answered after ${waited}s"
code=$(docker exec "$prefix-s3" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9000 && printf "GET / HTTP/1.0\r\n\r\n" >&3 && head -1 <&3' | cut -d' ' -f2)
[ "$code" = 403 ] || fail "an unsigned ListBuckets answered $code, not 403"
step "unsigned request refused (403): ok"

S3_ENDPOINT="http://$ip:9000" S3_ACCESS=checkaccess S3_SECRET=checksecret-0123456789 \
  sh "$root/scripts/node24.sh" node --input-type=module -e '
import { Readable } from "node:stream";
import { openS3 } from "'"$root"'/src/components/objectstore/object-client.ts";
const s3 = openS3({ endpoint: process.env.S3_ENDPOINT, region: "us-east-1", accessKey: process.env.S3_ACCESS, secretKey: process.env.S3_SECRET });
await s3.createBucket("check");
const body = Buffer.from("hello versitygw");
await s3.putObject("check", "a dir/ünï.txt", Readable.from([body]), body.length, { contentType: "text/plain", metadata: { owner: "check" }, tags: { t: "1" } });
const got = await s3.getObject("check", "a dir/ünï.txt");
const bytes = Buffer.concat(await got.body.toArray());
const tags = await s3.tags("check", "a dir/ünï.txt");
if (!bytes.equals(body) || got.contentType !== "text/plain" || got.metadata.owner !== "check" || tags.t !== "1") { console.error(JSON.stringify({ contentType: got.contentType, metadata: got.metadata, tags })); process.exit(1); }
await s3.close();
' || fail "signed PUT/GET round trip"
step "signed PUT and GET keep bytes, content type, metadata and tags: ok"
timed_stop "$prefix-s3"
