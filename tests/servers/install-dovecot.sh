#!/usr/bin/env bash
# Dovecot's IMAP server from Debian's packages for the IMAP intake tests
# (tests/mail/imap_server.py starts it as a plain foreground process with its own config).
#
# dovecot-core is installed normally; dovecot-imapd is *unpacked* into $DEST instead of
# installed, because it Provides imap-server, which cyrus-imapd (installed for the
# CalDAV interop tests) Conflicts with: installing one would remove the other.
# Idempotent: does nothing when both are there. Needs root on a fresh Debian 12.
set -euo pipefail
DEST=/opt/followups-tests/dovecot-imapd
if command -v dovecot >/dev/null 2>&1 && [ -x "$DEST/usr/lib/dovecot/imap" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-dovecot.sh: run as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
if ! command -v dovecot >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends dovecot-core
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get -o DPkg::Lock::Timeout=600 download dovecot-imapd)
mkdir -p "$DEST"
dpkg-deb -x "$work"/dovecot-imapd_*.deb "$DEST"
# The package starts a system-wide instance where an init system runs; the tests need none.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
    systemctl stop dovecot || true
fi
