#!/usr/bin/env bash
# Debian's PostgreSQL 15 on 127.0.0.1:55432: the second target of the db tests (nothing may depend on the
# embedded build). `start` is idempotent; `url` prints the URL; `stop` stops it.
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
DATA=/tmp/xbot-pg15/data
PORT=55432
URL="postgresql://postgres@127.0.0.1:${PORT}/postgres"
run() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-start}" in
  url) echo "$URL" ;;
  stop) run "$PGBIN/pg_ctl" -D "$DATA" -m fast stop || true ;;
  start)
    if [ ! -x "$PGBIN/initdb" ]; then
      SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql-15 >/dev/null \
        || { $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql-15 >/dev/null; }
    fi
    mkdir -p /tmp/xbot-pg15
    [ "$(id -u)" -ne 0 ] || chown postgres /tmp/xbot-pg15
    if [ ! -f "$DATA/PG_VERSION" ]; then
      run "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    if ! run "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      run "$PGBIN/pg_ctl" -D "$DATA" -l /tmp/xbot-pg15/log -w \
        -o "-c listen_addresses=127.0.0.1 -p ${PORT} -k /tmp/xbot-pg15" start >/dev/null
    fi
    echo "PostgreSQL 15 on $URL"
    ;;
esac
