#!/usr/bin/env bash
# Sets up everything Governance Ledger needs on a fresh Debian machine, idempotently:
# system packages (Chromium for browser tests and PDF printing), a virtualenv with the
# project and its test extra, and GOV.UK Frontend's compiled CSS/JS/fonts from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
GOVUK_FRONTEND_VERSION="5.14.0"

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "==> Installing Chromium (browser tests, PDF printing)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "!! chromium is not installed and this is not root: browser tests will be skipped" >&2
  fi
fi

# Debian's postgresql package keeps initdb/pg_ctl off PATH, in /usr/lib/postgresql/<major>/bin.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  if [ "$(id -u)" = "0" ]; then
    echo "==> Installing PostgreSQL (the PostgreSQL event store's tests start a throwaway server)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "!! PostgreSQL is not installed and this is not root: its event-store tests will be skipped" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> Creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
echo "==> Installing governance-ledger and its test extra"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"

assets=web/static/govuk
if [ ! -f "$assets/govuk-frontend.min.css" ] || [ "$(cat "$assets/VERSION" 2>/dev/null)" != "$GOVUK_FRONTEND_VERSION" ]; then
  echo "==> Fetching GOV.UK Frontend $GOVUK_FRONTEND_VERSION from npm"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack -q "govuk-frontend@$GOVUK_FRONTEND_VERSION" >/dev/null && tar -xzf govuk-frontend-*.tgz)
  rm -rf "$assets" && mkdir -p "$assets"
  cp "$tmp"/package/dist/govuk/govuk-frontend.min.css "$tmp"/package/dist/govuk/govuk-frontend.min.js "$assets"/
  cp -r "$tmp"/package/dist/govuk/assets "$assets"/assets
  echo "$GOVUK_FRONTEND_VERSION" > "$assets/VERSION"
  rm -rf "$tmp"
fi
