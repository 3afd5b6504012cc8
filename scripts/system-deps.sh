#!/usr/bin/env bash
# Debian packages the test suite drives for real: Chromium (browser tests), PostgreSQL (database tests).
# Installs only what is missing, and only where we may (root with apt); elsewhere says what to install.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} from Debian's packages" >&2
  apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2
else
  echo "note: install ${need[*]} (Debian packages) to run the browser and PostgreSQL tests" >&2
fi
exit 0
