#!/usr/bin/env bash
# Idempotent environment setup for a fresh Debian 12 machine (or a developer's).
#  1. Debian libraries WeasyPrint needs + poppler-utils (pdffonts/pdftoppm for tests)
#  2. .venv with python3.11 and requirements.txt (skipped when the stamp matches)
# Safe to run repeatedly; does nothing (quickly) when everything is in place.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf 'setup.sh: %s\n' "$*" >&2; }

# --- 1. system packages ------------------------------------------------------
APT_PACKAGES=(
    libpango-1.0-0
    libpangoft2-1.0-0
    libharfbuzz-subset0
    poppler-utils
)

# The tests start a private PostgreSQL 15 cluster: the server binaries must be there.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    APT_PACKAGES+=(postgresql-15)
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]})); then
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then
        SUDO=(sudo)
    fi
    log "installing Debian packages: ${missing[*]}"
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- 2. virtualenv -----------------------------------------------------------
PYTHON="${PYTHON:-}"
if [[ -z $PYTHON ]]; then
    if command -v python3.11 >/dev/null 2>&1; then
        PYTHON=python3.11
    else
        PYTHON=python3
    fi
fi

# A .venv whose interpreter no longer runs (moved repo, removed python) is rebuilt.
if [[ -d .venv ]] && ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
    log ".venv is broken; recreating it"
    rm -rf .venv
fi

if [[ ! -x .venv/bin/python ]]; then
    log "creating .venv with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv .venv
fi

STAMP=.venv/.requirements.sha
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [[ $want != "$have" ]]; then
    log "installing requirements.txt into .venv"
    .venv/bin/python -m pip install --disable-pip-version-check --no-input -q \
        -r requirements.txt
    printf '%s\n' "$want" >"$STAMP"
fi
