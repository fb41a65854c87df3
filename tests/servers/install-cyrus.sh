#!/bin/sh
# Installs Cyrus IMAP (its httpd serves CalDAV with RFC 6638 implicit scheduling) from Debian's
# packages for the test suite, which starts it as a plain process on loopback
# (tests/sync/cyrus.py). Idempotent: does nothing when the binaries are present. Run as root (or
# via sudo) on Debian 12; the packages' own service is kept from starting (policy-rc.d) and
# stopped/disabled if it runs anyway, so nothing listens on the standard ports afterwards.
set -eu

PACKAGES="cyrus-imapd cyrus-caldav cyrus-admin sasl2-bin"

have() { [ -x /usr/lib/cyrus/bin/master ] && [ -x /usr/lib/cyrus/bin/httpd ] && command -v saslpasswd2 >/dev/null 2>&1; }

installed() {
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
    done
}

if installed && have; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-cyrus.sh: not root and no sudo; install $PACKAGES by hand" >&2; exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# Keep maintainer scripts from starting the system daemon (invoke-rc.d honours policy-rc.d).
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=""
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    ADDED_POLICY=1
fi
cleanup() { [ -n "$ADDED_POLICY" ] && $SUDO rm -f "$POLICY"; return 0; }
trap cleanup EXIT

APT="apt-get -o DPkg::Lock::Timeout=600 -y -q"
if ! $SUDO $APT install --no-install-recommends $PACKAGES; then
    $SUDO $APT update
    $SUDO $APT install --no-install-recommends $PACKAGES
fi

# If a service manager started it anyway, stop it and keep it from coming back at boot.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now cyrus-imapd >/dev/null 2>&1 || true
fi
if [ -x /etc/init.d/cyrus-imapd ]; then
    $SUDO /etc/init.d/cyrus-imapd stop >/dev/null 2>&1 || true
    command -v update-rc.d >/dev/null 2>&1 && $SUDO update-rc.d cyrus-imapd disable >/dev/null 2>&1 || true
fi

have || { echo "install-cyrus.sh: Cyrus binaries missing after install" >&2; exit 1; }
