#!/usr/bin/env bash
# Fetch from S3: drill's libcurl store against the curl command-line tool, on the same object in moto (signature
# checking on). Prints throughput and peak RSS (/usr/bin/time -v) for each. Options: --size-mb N (default 1024),
# --runs N (default 3). See docs/performance.md, section "Fetch from S3".
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=1024 runs=3
while (($#)); do
  case "$1" in
    --size-mb) size_mb=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: bench/fetch.sh [--size-mb N] [--runs N]" >&2; exit 2 ;;
  esac
done
scripts/install-deps.sh --test
export PATH="/opt/swift/usr/bin:$PATH"
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
swift build -c release --product drill-bench 2>&1 | tail -1 >&2
bench_bin="$(swift build -c release --show-bin-path)/drill-bench"

work=$(mktemp -d /tmp/drill-fetch-bench.XXXXXX)
fixtures=Tests/fixtures/drill_fixtures.py
# The moto launcher prints its port, then runs until we stop it (or until this script exits).
coproc MOTO { exec python3 "$fixtures" moto --port "$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"; }
moto_pid=$MOTO_PID
trap 'kill $moto_pid 2>/dev/null || true; rm -rf "$work"' EXIT
read -r port <&"${MOTO[0]}"
endpoint="http://127.0.0.1:$port"
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done

echo "== writing a ${size_mb} MiB random object and uploading it to moto" >&2
head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$work/object"
expected=$(sha256sum "$work/object" | cut -d' ' -f1)
creds=$(python3 "$fixtures" admin --endpoint "$endpoint" <<<'[{"op": "enable_auth"}]')
export AWS_ACCESS_KEY_ID=$(python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["key"])' <<<"$creds")
export AWS_SECRET_ACCESS_KEY=$(python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["secret"])' <<<"$creds")
export AWS_REGION=us-east-1
python3 "$fixtures" admin --endpoint "$endpoint" <<<"[{\"op\": \"bucket\", \"bucket\": \"bench\"},
  {\"op\": \"put\", \"bucket\": \"bench\", \"key\": \"dumps/object.bin\", \"file\": \"$work/object\"}]" >/dev/null
rm -f "$work/object"
mkdir -p "$work/stage"

# measure NAME COMMAND...: runs COMMAND under /usr/bin/time -v; prints wall seconds, MiB/s and peak RSS.
measure() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
  awk -v n="$name" -v t0="$t0" -v t1="$t1" -v mb="$size_mb" -v rss="$rss" \
    'BEGIN { s = t1 - t0; printf "%-44s %7.2f s %8.1f MiB/s %8.1f MiB peak RSS\n", n, s, mb / s, rss / 1024 }'
}

# curl's SigV4 signing needs the key and secret as --user: they go through a config file, not the command line.
printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$work/curlrc"
chmod 600 "$work/curlrc"
url="$endpoint/bench/dumps/object.bin"
curl_args=(-sS -f --aws-sigv4 "aws:amz:us-east-1:s3" -K "$work/curlrc" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$url")

echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(curl --version | head -1 | cut -d' ' -f1-2), ${size_mb} MiB object, $runs runs each" >&2
for run in $(seq "$runs"); do
  echo "-- run $run"
  measure "drill-bench stream → /dev/null (SHA-256 on)" "$bench_bin" fetch s3://bench/dumps/ --endpoint "$endpoint" --mode stream --to /dev/null
  grep -q "sha256=$expected" "$work/out" || { echo "digest mismatch: $(cat "$work/out")" >&2; exit 1; }
  measure "drill-bench stage → file (SHA-256 on)" "$bench_bin" fetch s3://bench/dumps/ --endpoint "$endpoint" --mode stage --dir "$work/stage"
  grep -q "sha256=$expected" "$work/out" || { echo "digest mismatch: $(cat "$work/out")" >&2; exit 1; }
  measure "curl → /dev/null" curl "${curl_args[@]}" -o /dev/null
  measure "curl → file" curl "${curl_args[@]}" -o "$work/stage/curl.bin"
  rm -f "$work/stage/curl.bin"
  measure "curl | sha256sum" bash -c 'curl "$@" | sha256sum' _ "${curl_args[@]}"
  measure "curl | openssl sha256" bash -c 'curl "$@" | openssl dgst -sha256' _ "${curl_args[@]}"
done
