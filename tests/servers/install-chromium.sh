#!/usr/bin/env bash
# Headless Chromium from Debian's packages, for the GraphiQL page test (tests/test_graphiql.py).
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >/dev/null
