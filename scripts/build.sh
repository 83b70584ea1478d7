#!/usr/bin/env bash
# Builds drill: scripts/build.sh [debug|release] (default debug). The tests and the container image both build
# through this script. Prints the path of the built executable last.
set -euo pipefail
cd "$(dirname "$0")/.."
config="${1:-debug}"
case "$config" in debug|release) ;; *) echo "usage: $0 [debug|release]" >&2; exit 2 ;; esac
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c "$config"
echo "$(swift build -c "$config" --show-bin-path)/drill"
