#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set up, lint, then every test
# (browser tests included, in real Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "==> ruff"
.venv/bin/ruff check .
echo "==> pytest"
.venv/bin/python -m pytest -n 2 "$@"
