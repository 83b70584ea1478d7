#!/usr/bin/env bash
# A throwaway "production" PostgreSQL for the demo: initdb + pg_ctl in a private folder, unix socket only,
# run as an unprivileged user when called as root (PostgreSQL refuses to run as root).
#   source-cluster.sh start DIR   → prints the socket folder and port on stdout as "HOST PORT"
#                                   ($SOURCE_OPTIONS adds server options, e.g. "-c archive_mode=on …")
#   source-cluster.sh stop DIR
set -euo pipefail
cmd=$1 dir=$2
bindir=$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_user=()
user=""
if [[ $(id -u) -eq 0 ]]; then
  user=postgres; id postgres >/dev/null 2>&1 || user=nobody
  as_user=(setpriv --reuid="$(id -u $user)" --regid="$(id -g $user)" --init-groups --)
fi
case "$cmd" in
  start)
    mkdir -p "$dir"; chmod 700 "$dir"
    [[ ${#as_user[@]} -gt 0 ]] && chown "$user" "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "${as_user[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --no-locale --no-instructions >"$dir/initdb.log" 2>&1
    "${as_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
      -o "-c listen_addresses='' -c port=$port -c unix_socket_directories='$dir' -c fsync=off ${SOURCE_OPTIONS:-}" start >/dev/null </dev/null
    echo "$dir $port"
    ;;
  user)
    echo "${user:-$(id -un)}"
    ;;
  stop)
    [[ -d "$dir/data" ]] && "${as_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w -s stop >/dev/null 2>&1 </dev/null || true
    rm -rf "$dir"
    ;;
esac
