#!/usr/bin/env bash
# Fails when proto/ breaks callers compared with the previous commit: on main, the first parent,
# which is the contract as it stood before this change landed. The rules are buf.yaml's `breaking`
# section. A shallow clone is deepened by one commit first; only a root commit has nothing to
# compare with.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! git rev-parse -q --verify 'HEAD~1^{commit}' >/dev/null; then
  if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    git fetch -q --deepen=1 || { echo "shallow clone and the previous commit cannot be fetched" >&2; exit 1; }
  else
    echo "HEAD is the first commit: no earlier contract to compare with"
    exit 0
  fi
fi
echo "comparing proto/ with $(git log -1 --format='%h %s' 'HEAD~1')"
npx buf breaking --against '.git#ref=HEAD~1'
