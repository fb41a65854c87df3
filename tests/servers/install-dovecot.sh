#!/usr/bin/env bash
# Install Dovecot's IMAP server from Debian's packages for the IMAP intake tests
# (tests/mail/imap_server.py starts it as a plain foreground process with its own config).
# Idempotent: does nothing when dovecot is installed. Needs root on a fresh Debian 12.
set -euo pipefail
if command -v dovecot >/dev/null 2>&1 && [ -x /usr/lib/dovecot/imap ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-dovecot.sh: run as root (or install dovecot-imapd yourself)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends dovecot-imapd
# The package starts a system-wide instance where an init system runs; the tests need none.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
    systemctl stop dovecot || true
    systemctl disable dovecot || true
fi
