#!/usr/bin/env bash
# One command, real drills: installs what is missing, builds drill, and starts a sample production server with WAL
# archiving into demo/wal. It creates a "shop" database (pgbench + orders) and takes a fresh pg_dump of it into
# demo/backups, and a "ledger" database of which it takes a pg_basebackup into demo/base before writing more. Then it
# runs `drill run critical` against the shipped drills/ on the embedded default (shop: restore the dump; ledger:
# point-in-time recovery from the base backup and the WAL archive) and prints the reports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="/opt/swift/usr/bin:$PATH"

echo "== building drill" >&2
drill_bin="$(scripts/build.sh release | tail -n 1)"

src=$(mktemp -d /tmp/drill-demo-source.XXXXXX)
trap 'scripts/lib/source-cluster.sh stop "$src"' EXIT
rm -rf demo/wal demo/base
mkdir -p demo/wal demo/base
chown "$(scripts/lib/source-cluster.sh user "$src")" demo/wal  # the server writes the WAL archive
wal_dir="$PWD/demo/wal"
export SOURCE_OPTIONS="-c wal_level=replica -c archive_mode=on -c archive_command='test ! -f $wal_dir/%f && cp %p $wal_dir/%f' -c max_wal_senders=4"
read -r host port < <(scripts/lib/source-cluster.sh start "$src")
export PGHOST=$host PGPORT=$port PGUSER=postgres
echo "== creating the sample production database (pgbench scale 10 + orders)" >&2
createdb shop
pgbench -q -i -s 10 shop >/dev/null 2>&1
psql -X -q -d shop -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE orders (id bigserial PRIMARY KEY, account int NOT NULL, amount numeric(12,2) NOT NULL,
                     created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO orders (account, amount, created_at)
SELECT 1 + (i % 100000), round((random() * 500)::numeric, 2), now() - (i || ' seconds')::interval
FROM generate_series(1, 200000) AS i;
CREATE INDEX orders_created_at ON orders (created_at);
SQL
mkdir -p demo/backups
dump="demo/backups/shop-$(date -u +%Y%m%dT%H%M%SZ).dump"
echo "== pg_dump -Fc shop > $dump" >&2
pg_dump -Fc -d shop -f "$dump"

echo "== creating the ledger database, pg_basebackup into demo/base, then more writes (archived WAL only)" >&2
createdb ledger
psql -X -q -d ledger -v ON_ERROR_STOP=1 -c "CREATE TABLE entries (id bigserial PRIMARY KEY, amount numeric(12,2), created_at timestamptz NOT NULL DEFAULT now()); INSERT INTO entries (amount) SELECT random() * 100 FROM generate_series(1, 10000);"
pg_basebackup -D "demo/base/$(date -u +%Y%m%dT%H%M%SZ)" -Ft -z -X none -c fast
psql -X -q -d ledger -v ON_ERROR_STOP=1 -c "INSERT INTO entries (amount) SELECT random() * 100 FROM generate_series(1, 5000);"
switched=$(psql -X -At -d ledger -c "SELECT pg_walfile_name(pg_switch_wal())")
for _ in $(seq 1 100); do
  [[ "$(psql -X -At -d ledger -c "SELECT last_archived_wal >= '$switched' FROM pg_stat_archiver")" == "t" ]] && break
  sleep 0.1
done
unset PGHOST PGPORT PGUSER

# drill skips a backup modified less than backup.settle (60 s) before it runs: it may still be being written. These
# two are complete (pg_dump and pg_basebackup returned), so their file times are set a little back. The shop dump's
# recovery point is its header's creation time, and the ledger's is measured by WAL replay: neither moves.
touch -d "-2 minutes" "$dump" demo/base/*

echo "== drill run critical" >&2
set +e
"$drill_bin" run critical --archive demo/archive
status=$?
set -e
for report in $(ls -t demo/archive/*/*/*.md 2>/dev/null | head -2); do
  echo; echo "== $report"; cat "$report"
done
echo; echo "drill exited with status $status (0 = every drill compliant; see docs/exit-codes.md)"
exit $status
