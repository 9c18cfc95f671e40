#!/usr/bin/env bash
# Create (once) a Python virtualenv for one test suite and print its path.
#   scripts/setup/venv.sh anki      -> venv with test/python/anki.txt installed
#   scripts/setup/venv.sh litgpt    -> venv with test/python/litgpt.txt installed
# Venvs live in $HOME/.cache/tagpress/venv-<suite>-<hash of the requirements file>,
# so a fresh clone reuses them, and a changed requirements file makes a new one.
# Idempotent; progress goes to stderr, the path to stdout.
set -euo pipefail
suite="${1:?usage: venv.sh <suite>}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
requirements="$root/test/python/$suite.txt"
[ -f "$requirements" ] || { echo "venv.sh: no $requirements" >&2; exit 2; }
python="${PYTHON:-python3}"
hash="$( (cat "$requirements"; "$python" --version 2>&1) | sha256sum | cut -c1-16)"
cache="${TAGPRESS_CACHE:-$HOME/.cache/tagpress}"
venv="$cache/venv-$suite-$hash"
if [ ! -f "$venv/.complete" ]; then
  echo "venv.sh: creating $venv (one time; cached)" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  touch "$venv/.complete"
fi
echo "$venv"
