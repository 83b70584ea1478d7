#!/usr/bin/env bash
# What teams write by hand: download the dump with curl, create a database, restore it, check it, drop it.
# Used by bench/bench.py as the "usual script" baseline. Connection settings come from PG* variables.
#   usual-script.sh URL JOBS
set -euo pipefail
url=$1 jobs=$2
dump=$(mktemp /tmp/usual-script.XXXXXX.dump)
trap 'rm -f "$dump"' EXIT
curl -fsS -o "$dump" "$url"
createdb restore_check
pg_restore --exit-on-error --no-owner --no-privileges -j "$jobs" -d restore_check "$dump"
psql -X -q -d restore_check -c "SELECT count(*) FROM pgbench_accounts" >/dev/null
psql -X -q -d restore_check -c "SELECT count(*) FROM events" >/dev/null
dropdb restore_check
