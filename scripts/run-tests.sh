#!/usr/bin/env bash
# Runs the whole suite. Database tests run on SQLite and, when a PostgreSQL server can be
# had, on PostgreSQL too: DERMATRACK_TEST_POSTGRES_URL if set, else a throwaway cluster
# started here on loopback when Debian's PostgreSQL binaries are installed.
# Usage: scripts/run-tests.sh VENV_BIN [pytest args...]
set -euo pipefail
bin=$1; shift
pg_tmp=""
cleanup() {
  if [[ -n "$pg_tmp" ]]; then
    "$pg_bin/pg_ctl" -D "$pg_tmp/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_tmp"
  fi
}
trap cleanup EXIT

if [[ -z "${DERMATRACK_TEST_POSTGRES_URL:-}" ]]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$pg_bin" && -x "$pg_bin/initdb" ]]; then
    pg_tmp=$(mktemp -d /tmp/dermatrack-pg.XXXXXX)
    port=$(( 20000 + RANDOM % 20000 ))
    runas=()
    if [[ $(id -u) -eq 0 ]]; then
      id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
      chown postgres "$pg_tmp"; runas=(runuser -u postgres --)
    fi
    "${runas[@]}" "$pg_bin/initdb" -D "$pg_tmp/data" -U dermatrack --auth=trust >/dev/null
    "${runas[@]}" "$pg_bin/pg_ctl" -D "$pg_tmp/data" -l "$pg_tmp/log" -w \
      -o "-p $port -k $pg_tmp -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U dermatrack dermatrack_test
    export DERMATRACK_TEST_POSTGRES_URL="postgresql+psycopg://dermatrack@127.0.0.1:$port/dermatrack_test"
    echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port for the database tests"
  else
    echo "PostgreSQL binaries not found: database tests run on SQLite only (CI installs them)"
  fi
fi

if [[ -z "${DERMATRACK_TEST_CHROMIUM:-}" && -x /usr/bin/chromium ]]; then
  export DERMATRACK_TEST_CHROMIUM=/usr/bin/chromium
fi

set +e
"$bin/python" -m pytest "$@"
status=$?
set -e
# pytest's 5 means "no tests collected": a broken suite, not a pass.
exit $status
