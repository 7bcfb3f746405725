#!/bin/sh
# Healthy while the database answers and the core's tables exist: a restore
# that lost hoss_core, or brought it back without these tables, shows here.
exec psql -X -q -A -t -v ON_ERROR_STOP=1 \
  -c 'SELECT 1 FROM accounts LIMIT 0' \
  -c 'SELECT 1 FROM ledger LIMIT 0' >/dev/null
