#!/usr/bin/env bash
# The benchmark, in one command: drill side by side with the raw tools and the usual hand-written script, on the same
# generated database. Prints a table and writes bench/results/latest.md. Options: --size-mb N (default 1024),
# --runs N (default 3), --jobs N (default: cores), --focus restore|end-to-end (one question,
# many rounds, with a confidence interval).
# bench/run.sh --physical [--runs N] [--quick]: the physical (basebackup + WAL) restore against the same recovery by
# hand, local and on S3 (bench/physical.py).
# See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product drill 2>&1 | tail -1 >&2
if [ "${1:-}" = "--physical" ]; then
    shift
    exec python3 bench/physical.py --drill "$(swift build -c release --show-bin-path)/drill" "$@"
fi
exec python3 bench/bench.py --drill "$(swift build -c release --show-bin-path)/drill" "$@"
