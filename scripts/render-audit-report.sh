#!/bin/sh
# Renders an HTML audit report (drill report --output FILE.html) in headless Chromium and saves a screenshot.
# Fails when Chromium fails or logs a console error or a blocked external request. Usage:
#   scripts/render-audit-report.sh report.html screenshot.png
set -eu
html=$1
png=$2
case $html in /*) ;; *) html=$(pwd)/$html ;; esac
log=$(mktemp)
profile=$(mktemp -d)
trap 'rm -rf "$log" "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --user-data-dir="$profile" --enable-logging=stderr --v=0 \
  --window-size=1100,2400 --screenshot="$png" "file://$html" 2>"$log" || { cat "$log" >&2; exit 1; }
if grep -E 'CONSOLE|Uncaught|net::ERR_' "$log" >&2; then
  echo "render-audit-report: errors while rendering $html" >&2
  exit 1
fi
test -s "$png"
echo "rendered $html -> $png"
