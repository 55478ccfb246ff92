#!/usr/bin/env bash
# Set up, load the three seed reports into a fresh data directory, and serve the product.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/govledger demo "$@"
