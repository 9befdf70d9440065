#!/usr/bin/env bash
# Set-up beyond pip for the teaching view (copsim viz), called by tasks.sh:
#   1. Debian's Chromium for the end-to-end browser tests (apt-get, only as root and
#      only when missing; never a downloaded browser);
#   2. Solara's front-end files, fetched from the npm registry into Solara's asset
#      cache inside the virtualenv, so the view works with no internet access.
# Idempotent: a second run checks and returns in a few seconds.
# usage: bash scripts/setup_extras.sh [VENV]     (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv}"
PY="$VENV/bin/python"

# -- 1. chromium -------------------------------------------------------------------
if [ -x /usr/bin/chromium ]; then
  echo "== chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1 || echo present)"
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing Debian's chromium (for the browser tests)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    echo "warning: could not install chromium; the browser tests will fail until it is installed" >&2
  fi
else
  echo "note: /usr/bin/chromium is missing and this is not a root shell with apt-get;" \
       "install Debian's chromium package to run the browser tests" >&2
fi

# -- 2. Solara's front-end assets ---------------------------------------------------------
if [ ! -x "$PY" ]; then
  echo "note: no Python at $PY; skipping Solara's assets" >&2
elif ! "$PY" -c "import solara" >/dev/null 2>&1; then
  echo "note: solara is not installed in $VENV (the viz extra); skipping its assets"
elif ! "$PY" -m copsim.viz.assets; then
  echo "warning: Solara's assets are not cached; the view will need internet access" >&2
fi
