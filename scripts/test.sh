#!/usr/bin/env bash
# One command runs the tests: installs what is missing (apt, pip), builds, and runs every suite. The integration
# suites start their own PostgreSQL clusters (initdb + postgres, as an unprivileged user when run as root) and their
# own S3 API (moto) on 127.0.0.1, and remove them when they finish. Extra arguments go to `swift test`
# (e.g. scripts/test.sh --filter DumpRestoreTests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
export PATH="/opt/swift/usr/bin:$PATH"
export DRILL_TEST_VENV="${DRILL_TEST_VENV:-$HOME/.cache/drill/test-venv}"
scripts/build.sh debug >/dev/null
# The demo and the container image build for release, where the optimizer runs: a release build that fails (Swift 6.3's
# optimizer has crashed on code the debug build accepts) fails the tests too.
scripts/build.sh release >/dev/null
swift build --build-tests
swift test "$@"
