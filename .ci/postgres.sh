#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests (issue 20): Debian's `postgresql`
# (installed when missing, under CI=true or as root, as .ci/run does for its
# other packages), a cluster initialised in a temporary folder, listening on
# a unix socket in that folder only (no TCP port), fsync off, stopped and
# removed when the shell that started it exits. No Docker, no download at
# run time (see shared/postgres/README.md).
#
# Sourced (`. .ci/postgres.sh`, as .ci/run does): starts the cluster, exports
# ROLLCOACH_TEST_POSTGRES (a postgres:// URL of its superuser) and sets an
# EXIT trap that stops it. Run with a command (`bash .ci/postgres.sh cargo
# test -p rollcoach-store-postgres`): runs the command with the cluster up
# and stops it after.

rollcoach_pg_start() {
  local pgbin
  pgbin="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1 || true)"
  if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
    if [ "${CI:-}" = "true" ] || [ "$(id -u)" = 0 ]; then
      apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
      pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    else
      echo "the PostgreSQL tests need: sudo apt-get install postgresql (run as root, or with CI=true, .ci/run installs it)" >&2
      return 1
    fi
  fi
  ROLLCOACH_PG_DIR="$(mktemp -d /tmp/rollcoach-pg.XXXXXX)"
  # initdb refuses to run as root: the cluster is the `postgres` user's
  # (the package creates it); anyone else runs it as themselves.
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$ROLLCOACH_PG_DIR"
    as=(runuser -u postgres --)
  fi
  ROLLCOACH_PG_CTL=("${as[@]}" "$pgbin/pg_ctl" -D "$ROLLCOACH_PG_DIR/data")
  "${as[@]}" "$pgbin/initdb" -D "$ROLLCOACH_PG_DIR/data" -U postgres --auth=trust \
    --no-instructions -E UTF8 --locale=C.UTF-8 > "$ROLLCOACH_PG_DIR/initdb.log" 2>&1 || {
    cat "$ROLLCOACH_PG_DIR/initdb.log" >&2
    return 1
  }
  "${ROLLCOACH_PG_CTL[@]}" -w -l "$ROLLCOACH_PG_DIR/log" \
    -o "-c listen_addresses='' -c unix_socket_directories='$ROLLCOACH_PG_DIR' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start > /dev/null || {
    cat "$ROLLCOACH_PG_DIR/log" >&2
    return 1
  }
  export ROLLCOACH_TEST_POSTGRES="postgres:///postgres?host=$ROLLCOACH_PG_DIR&user=postgres"
  echo "postgres: a throwaway cluster at $ROLLCOACH_PG_DIR ($("$pgbin/postgres" --version))"
}

rollcoach_pg_stop() {
  if [ -n "${ROLLCOACH_PG_DIR:-}" ] && [ -d "$ROLLCOACH_PG_DIR" ]; then
    "${ROLLCOACH_PG_CTL[@]}" -m immediate stop > /dev/null 2>&1 || true
    rm -rf "$ROLLCOACH_PG_DIR"
  fi
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: the caller's shell keeps the cluster until it exits.
  rollcoach_pg_start
  trap rollcoach_pg_stop EXIT
else
  set -euo pipefail
  trap rollcoach_pg_stop EXIT
  rollcoach_pg_start
  if [ "$#" -gt 0 ]; then
    "$@"
  fi
fi
