#!/usr/bin/env bash
# Install the object tagger's Node modules from package-lock.json, only when needed.
#
# Idempotent: `npm ci` runs when node_modules is missing or the lock file changed since the last
# successful install (a hash stamp inside node_modules remembers it). Without node/npm it warns and
# succeeds, because the local analyzer degrades to "no object tags" rather than failing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
stamp="node_modules/.collections-lock.sha256"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "tagger: node/npm not found; the local analyzer will run without object tags" >&2
    exit 0
fi

wanted="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -d node_modules && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    exit 0
fi

# --ignore-scripts: none of the locked packages needs an install script, and none may run one.
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
echo "$wanted" >"$stamp"
echo "tagger: installed $(du -sh node_modules | cut -f1) of Node modules" >&2
