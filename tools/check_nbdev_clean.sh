#!/usr/bin/env bash
# Fails when nbdev_export or nbdev_clean would change the tree (as nbdev's own CI does).
# Works on a dirty tree too: it compares the state before and after, not against HEAD.
set -euo pipefail
cd "$(dirname "$0")/.."
snapshot() { { git status --porcelain --untracked-files=all; git diff; git ls-files --others --exclude-standard -z | xargs -0 -r cat; } | sha256sum; }
before=$(snapshot)
nbdev_export
nbdev_clean
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "nbdev_export / nbdev_clean changed the tree: run 'make export' and commit the result." >&2
  git status --short >&2
  exit 1
fi
echo "nbdev_export and nbdev_clean leave the tree unchanged."
