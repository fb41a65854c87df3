#!/usr/bin/env bash
# Redis from Debian's packages for the shared-limits tests (tests/test_shared_limits.py
# starts a private redis-server on a free loopback port; the system instance is not used).
# Idempotent: does nothing when redis-server is there. Needs root on a fresh Debian 12.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-redis.sh: run as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends redis-server
# The package starts a system-wide instance where an init system runs; the tests need none.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
    systemctl stop redis-server || true
    systemctl disable redis-server >/dev/null 2>&1 || true
fi
