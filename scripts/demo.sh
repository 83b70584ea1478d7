#!/usr/bin/env bash
# One command, a real drill: installs what is missing, builds drill, creates a sample "shop" production database with
# pgbench and an orders table, takes a fresh pg_dump of it into demo/backups, then runs `drill run critical` against
# the shipped drills/ on the embedded default and prints the report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export PATH="/opt/swift/usr/bin:$PATH"

echo "== building drill" >&2
swift build -c release --product drill 2>&1 | tail -1 >&2
drill_bin="$(swift build -c release --show-bin-path)/drill"

src=$(mktemp -d /tmp/drill-demo-source.XXXXXX)
trap 'scripts/lib/source-cluster.sh stop "$src"' EXIT
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
unset PGHOST PGPORT PGUSER

echo "== drill run critical" >&2
set +e
"$drill_bin" run critical --archive demo/archive
status=$?
set -e
report=$(ls -t demo/archive/*/*/*.md 2>/dev/null | head -1)
if [[ -n "$report" ]]; then
  echo; echo "== $report"; cat "$report"
fi
echo; echo "drill exited with status $status (0 = every drill compliant; see docs/exit-codes.md)"
exit $status
