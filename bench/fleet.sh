#!/usr/bin/env bash
# The fleet benchmark in one command: the archive at scale (a generated 20,000-report archive: due, plan, history,
# report, verify against sha256sum -c) and `drill run --parallel 4` against one drill at a time on 12 small drills.
# Prints tables and writes bench/results/fleet-latest.md. Options: --rounds N (default 3), --drills N --months N
# (the archive's size), --only archive|fleet. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product drill 2>&1 | tail -1 >&2
swift build -c release --product drill-bench 2>&1 | tail -1 >&2
bin="$(swift build -c release --show-bin-path)"
exec python3 bench/fleet.py --drill "$bin/drill" --bench-bin "$bin/drill-bench" "$@"
