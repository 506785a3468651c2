#!/usr/bin/env bash
# Debian's Chromium is the browser Playwright drives here (`playwright install` cannot download offline).
set -euo pipefail
if [ -n "${XBOT_CHROMIUM_PATH:-}" ] && [ -x "${XBOT_CHROMIUM_PATH}" ]; then exit 0; fi
if [ -x /usr/bin/chromium ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "Chromium is missing and installing it needs root: run 'sudo apt-get install -y chromium'" >&2
    echo "or set XBOT_CHROMIUM_PATH to a Chromium executable." >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q chromium >/dev/null || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null; }
/usr/bin/chromium --version
