#!/usr/bin/env bash
# Installs what drill needs on a fresh Debian machine: build libraries, PostgreSQL (server and client tools) and,
# with --test, the Python packages the tests use (moto's S3 server). Safe to run again: it installs only what is missing.
set -euo pipefail

apt_packages=(libcurl4-openssl-dev libpq-dev libssl-dev postgresql postgresql-client gzip util-linux)
# The audit tests check outputs with promtool (metrics) and headless Chromium (HTML report).
# Backup tools drills restore from (pgBackRest, Barman, Barman cloud); stunnel4 puts TLS in front of moto for
# pgBackRest's S3 tests (it speaks HTTPS only).
apt_packages+=(pgbackrest barman barman-cli-cloud)
[[ "${1:-}" == "--test" ]] && apt_packages+=(prometheus chromium openssl stunnel4)
if [[ "${1:-}" == "--test" ]] && ! python3 -m pip --version >/dev/null 2>&1; then apt_packages+=(python3-pip); fi

missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" ]]; then
  python3 - <<'PY' 2>/dev/null || python3 -m pip install -q 'moto[server]' junitparser
import moto, flask, junitparser  # moto's server needs flask
PY
fi
export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null || { echo "swift not found (expected under /opt/swift)" >&2; exit 1; }
