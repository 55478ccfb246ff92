#!/usr/bin/env bash
# Sets up everything Governance Ledger needs on a fresh Debian machine, idempotently:
# system packages (Chromium for browser tests and PDF printing), a virtualenv with the
# project and its test extra, and GOV.UK Frontend's compiled CSS/JS/fonts from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
GOVUK_FRONTEND_VERSION="5.14.0"

# Installs Debian packages when run as root (apt's lists fetched once); otherwise says
# what is missing and what it costs. Usage: apt_install "what it is for" package...
apt_updated=""
apt_install() {
  local why="$1"; shift
  if [ "$(id -u)" != "0" ]; then
    echo "!! $* not installed and this is not root: $why" >&2
    return 1
  fi
  echo "==> Installing $* ($why)"
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v chromium >/dev/null 2>&1; then
  apt_install "browser tests and PDF printing; without it browser tests are skipped" chromium || true
fi

# Debian's postgresql package keeps initdb/pg_ctl off PATH, in /usr/lib/postgresql/<major>/bin.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  apt_install "the PostgreSQL event store's tests start a throwaway server; without it they are skipped" \
    postgresql || true
fi

# cairosvg (the Word papers' charts as PNG) loads Cairo's C library at run time.
if ! ldconfig -p 2>/dev/null | grep -q "libcairo.so.2"; then
  apt_install "cairosvg draws the Word papers' charts; without it building a .docx fails" libcairo2 || true
fi

if [ ! -x .venv/bin/python ]; then
  # Debian ships Python's venv (and the pip it seeds) in a separate package.
  if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
    apt_install "Python's venv module, to create .venv" "$(basename "$PYTHON")-venv" || exit 1
  fi
  echo "==> Creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
echo "==> Installing governance-ledger and its test extra"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"

assets=web/static/govuk
if [ ! -f "$assets/govuk-frontend.min.css" ] || [ "$(cat "$assets/VERSION" 2>/dev/null)" != "$GOVUK_FRONTEND_VERSION" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    apt_install "npm fetches GOV.UK Frontend's CSS, JavaScript and fonts" nodejs npm || exit 1
  fi
  echo "==> Fetching GOV.UK Frontend $GOVUK_FRONTEND_VERSION from npm"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack -q "govuk-frontend@$GOVUK_FRONTEND_VERSION" >/dev/null && tar -xzf govuk-frontend-*.tgz)
  rm -rf "$assets" && mkdir -p "$assets"
  cp "$tmp"/package/dist/govuk/govuk-frontend.min.css "$tmp"/package/dist/govuk/govuk-frontend.min.js "$assets"/
  cp -r "$tmp"/package/dist/govuk/assets "$assets"/assets
  echo "$GOVUK_FRONTEND_VERSION" > "$assets/VERSION"
  rm -rf "$tmp"
fi
