#!/bin/sh
# The build stage of every service image (services/<service>/Containerfile),
# run from the repository's root copied to /src:
#   1. install every dependency and compile the service and the workspace
#      packages it uses (tsc -b follows the project references);
#   2. reinstall the production dependencies of that service alone (npm's
#      workspace-aware install: the other services' dependencies are left out);
#   3. collect what it needs at run time into the output folder: node_modules,
#      and for the service and each workspace package linked under
#      node_modules/@tweets, its package.json, compiled code (dist/src) and the
#      files it reads at run time (a proto, the Valkey apply script), plus
#      entry.mjs, which starts the service.
# Usage: build.sh <service> <output folder>
set -eu
service=services/$1
out=$2
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
node node_modules/typescript/bin/tsc -b "$service"
npm ci --omit=dev --workspace="$service" --no-audit --no-fund --ignore-scripts --loglevel=error
mkdir -p "$out"
cp -a node_modules package.json "$out/"
for link in node_modules/@tweets/*; do
  dir=$(readlink -f "$link")
  rel=${dir#"$PWD"/}
  mkdir -p "$out/$rel/dist"
  cp -a "$dir/package.json" "$out/$rel/"
  cp -a "$dir/dist/src" "$out/$rel/dist/"
  if [ -d "$dir/proto" ]; then cp -a "$dir/proto" "$out/$rel/"; fi
  for f in "$dir"/src/*.lua; do
    if [ -e "$f" ]; then mkdir -p "$out/$rel/src" && cp -a "$f" "$out/$rel/src/"; fi
  done
done
test -f "$out/$service/dist/src/main.js" || { echo "build.sh: $service/dist/src/main.js is missing" >&2; exit 1; }
printf "import './%s/dist/src/main.js';\n" "$service" > "$out/entry.mjs"
