#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests, if no browser is there yet.
# Idempotent: does nothing when CHROME_PATH or a chromium binary exists.
set -euo pipefail
if [ -n "${CHROME_PATH:-}" ] && [ -x "$CHROME_PATH" ]; then exit 0; fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
  if [ -x "$candidate" ]; then exit 0; fi
done
if ! command -v apt-get >/dev/null; then
  echo "chromium.sh: no Chromium and no apt-get; install Chromium and set CHROME_PATH" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "chromium.sh: installing Debian's chromium (for the browser tests)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
