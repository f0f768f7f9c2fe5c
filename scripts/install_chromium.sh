#!/usr/bin/env bash
# Install Debian's chromium (used headless by tests/browser and bench/) when it is missing.
# Quiet and non-interactive; a no-op when /usr/bin/chromium exists.
# Playwright drives this system browser (executable_path); `playwright install`
# would download its own build, which this project never does.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install_chromium.sh: /usr/bin/chromium is missing and this is not root; run: apt-get install chromium" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "installing chromium with apt-get (once)..."
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null
if [ ! -x /usr/bin/chromium ]; then
  echo "install_chromium.sh: apt-get finished but /usr/bin/chromium is still missing" >&2
  exit 1
fi
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
