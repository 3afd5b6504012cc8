#!/usr/bin/env bash
# Debian packages that the app and the test suite run outside Python, each named by the command we call:
#   chromium       browser tests (Playwright drives /usr/bin/chromium)
#   pg_ctlcluster  PostgreSQL on loopback for the database tests (scripts/test-postgres.sh)
#   pdftotext, pdftoppm  poppler-utils: the report tests read PDFs back and render their pages
#   dovecot        dovecot-imapd: an IMAP server on loopback for the mailbox tests (tests/dovecot.py)
#   redis-server   a queue broker on loopback for the tests of workers on several machines (tests/test_jobs.py)
# Installs only what is missing, and only where we may (root with apt); elsewhere says what to install.
set -u
need=()
want() { command -v "$1" >/dev/null 2>&1 || [[ " ${need[*]} " == *" $2 "* ]] || need+=("$2"); }
want chromium chromium
want pg_ctlcluster postgresql
want pdftotext poppler-utils
want pdftoppm poppler-utils
PATH="$PATH:/usr/sbin" want dovecot dovecot-imapd
want redis-server redis-server
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} from Debian's packages" >&2
  apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2
else
  echo "note: install ${need[*]} (Debian packages) to run the browser, PostgreSQL, PDF and mailbox tests" >&2
fi
exit 0
