#!/usr/bin/env bash
# Export the web client into DEST, ready for a node to serve: `aronanet serve --web-dir DEST`.
# A node serves src/aronanet/web by default when that directory exists, so
#   bash mobile/scripts/build-web.sh src/aronanet/web
# (from the project root) bundles the client with the node. Built files are never committed.
#
# The export goes to a staging directory first, so a failed build leaves DEST as it was; DEST
# is replaced only when it is empty, missing, or an earlier export (it holds an index.html).
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DEST   (export the web client into DEST for aronanet serve --web-dir DEST)" >&2
  exit 2
fi
dest="$(realpath -m -- "$1")"
mobile="$(cd "$(dirname "$0")/.." && pwd)"

if [ -d "$dest" ] && [ -n "$(ls -A "$dest")" ] && [ ! -f "$dest/index.html" ]; then
  echo "build-web: $dest is not empty and holds no earlier web export; not replacing it" >&2
  exit 1
fi

staging="$(mktemp -d "${TMPDIR:-/tmp}/aronanet-web.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

cd "$mobile"
[ -d node_modules ] || npm ci --no-audit --no-fund
npx expo export --platform web --output-dir "$staging/web" >&2

# Precompress the text files once, here, so the node never compresses on the fly: it serves
# NAME.gz to browsers that accept gzip (-n: no name or time inside, so builds are reproducible).
find "$staging/web" -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.json' \
  -o -name '*.svg' -o -name '*.webmanifest' -o -name '*.map' \) -size +1k -exec gzip -9 -k -n {} +

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -R "$staging/web" "$dest"
echo "build-web: the web client is in $dest; serve it with: aronanet serve --web-dir $dest"
