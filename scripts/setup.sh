#!/usr/bin/env bash
# Create .venv with everything the proxy, its tests and its tools need. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# torch first, from the pinned CPU build (an unpinned install would pull a multi-GB CUDA build)
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e '.[dev]'
# With --with-test-tools: the browser tests drive Debian's chromium (Playwright's client, no browser download) and
# the deploy-kit tests run promtool (Debian's prometheus package); installed when missing and this runs as root.
if [ "${1:-}" = "--with-test-tools" ] && { ! command -v chromium >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium prometheus >/dev/null) \
      || echo "setup: could not install chromium and prometheus (the browser and deploy-kit tests need them)" >&2
    # the prometheus package starts a server on :9090 we do not need
    (systemctl stop prometheus 2>/dev/null || pkill -x prometheus 2>/dev/null) || true
  else
    echo "setup: install chromium and prometheus (promtool) for the browser and deploy-kit tests" >&2
  fi
fi
