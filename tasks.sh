#!/usr/bin/env bash
# One entry point for a fresh clone: each command sets up what it needs, then runs.
#   bash tasks.sh main    set up and run the main job (a sweep from configs/)
#   bash tasks.sh test    set up and run the whole test suite (what CI runs)
#   bash tasks.sh viz     set up and open the teaching view in the browser
#   bash tasks.sh setup   only set up .venv
set -euo pipefail
cd "$(dirname "$0")"
VENV=".venv"

find_python() {
  # The first Python >= 3.12 found: $PYTHON, python3.12/3.13/3, or a pyenv install.
  local c v
  for c in "${PYTHON:-}" python3.12 python3.13 python3 python; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -V); do
      c="$(pyenv root)/versions/$v/bin/python3"
      [ -x "$c" ] && { echo "$c"; return 0; }
    done
  fi
  echo "error: copsim needs Python >= 3.12 (set PYTHON=/path/to/python3.12)" >&2
  return 1
}

setup() {
  local extras="${1:-all}" py stamp
  if [ ! -x "$VENV/bin/python" ]; then
    py="$(find_python)"
    echo "== creating $VENV with $($py --version)"
    "$py" -m venv "$VENV"
  fi
  stamp="$VENV/.installed-$(cat pyproject.toml | cksum | cut -d' ' -f1)-$extras"
  if [ ! -f "$stamp" ]; then
    echo "== installing copsim[$extras] into $VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e ".[$extras]"
    rm -f "$VENV"/.installed-*; touch "$stamp"
  fi
  if [ -x scripts/setup_extras.sh ]; then bash scripts/setup_extras.sh "$VENV"; fi
}

cmd="${1:-help}"; shift || true
case "$cmd" in
  setup) setup all ;;
  main)
    setup all
    if [ -f src/copsim/cli.py ]; then
      # the headline study: 4,800 runs on all cores (about a minute on 2), then report.html;
      # it prints where the results and the report are. Re-running skips finished runs.
      "$VENV/bin/copsim" sweep configs/power_x_funding.yaml --report "$@"
    else
      "$VENV/bin/python" experiments/march1991.py --runs 1000 --out results/march1991 "$@"
    fi ;;
  viz)
    setup all
    "$VENV/bin/copsim" viz "$@" ;;
  test)
    setup all
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/python" -m pytest "$@" ;;
  *) sed -n '2,7p' "$0"; exit 2 ;;
esac
