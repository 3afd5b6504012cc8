#!/usr/bin/env bash
# Start Debian's PostgreSQL on loopback with a throwaway test database; print its URL (nothing if unavailable).
set -u
command -v pg_ctlcluster >/dev/null 2>&1 || exit 0
[ "$(id -u)" = 0 ] || exit 0  # creating roles needs the postgres account; set MERCURY_TEST_POSTGRES_URL instead
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | awk '{print $2}' | grep -qx main || pg_createcluster "$version" main >&2
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
port=$(pg_lsclusters -h | awk '$2 == "main" {print $3}')
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 1; done
as_postgres() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qtAc \"$1\"" 2>/dev/null; }
[ "$(as_postgres "select 1 from pg_roles where rolname='mercury'")" = 1 ] ||
  as_postgres "create role mercury login password 'mercury' createdb" >&2
as_postgres "drop database if exists mercury_test" >&2
as_postgres "create database mercury_test owner mercury" >&2 || exit 0
echo "postgresql://mercury:mercury@127.0.0.1:$port/mercury_test"
