#!/usr/bin/env bash
# kit-bundle.sh ENTRY OUT — from anywhere in the repository, after `pnpm build`: bundles ENTRY (a .ts path from the
# repository root) with esbuild into OUT (an .mjs path, relative to the repository root or absolute; `webgpu` left
# external, to come from the GPU kit), and puts @ebm/viz's optional Node peers in OUT's folder's node_modules
# (linkedom bundled into one CommonJS file; @resvg/resvg-js and its linux-x64-gnu binary copied from the store),
# with tfjs's wasm files in OUT's folder's wasm/. Serves kit-demo.sh and kit-example.sh.
set -e
[ $# -eq 2 ] || { echo "usage: kit-bundle.sh ENTRY OUT" >&2; exit 2; }
entry=$1; out=$2
root=$(git rev-parse --show-toplevel); cd "$root"
E=node_modules/.pnpm/esbuild@0.25.12/node_modules/esbuild/bin/esbuild
k=$(dirname "$out")
mkdir -p "$k"
NODE_PATH="$root/packages/samplers/node_modules:$root/packages/cuda/node_modules:$root/apps/examples/node_modules" \
  "$E" "$entry" \
  --bundle --platform=node --format=esm --target=node20 --external:webgpu --external:@resvg/resvg-js \
  --outfile="$out" --log-level=warning \
  --banner:js="import {createRequire as __cr} from 'module'; import {fileURLToPath as __fu} from 'url'; import {dirname as __dn} from 'path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
L=$(find -L node_modules/.pnpm -maxdepth 3 -type d -path '*linkedom@*/node_modules/linkedom' | head -1)
mkdir -p "$k/node_modules/linkedom" "$k/node_modules/@resvg"
tmp=$(mktemp -d); echo 'module.exports = require("linkedom");' > "$tmp/lk.cjs"
NODE_PATH=$(dirname "$L") "$E" "$tmp/lk.cjs" --bundle --platform=node --format=cjs --outfile="$k/node_modules/linkedom/index.js" --log-level=warning
echo '{"name":"linkedom","main":"index.js"}' > "$k/node_modules/linkedom/package.json"
rm -rf "$tmp" "$k"/node_modules/@resvg/*
cp -rL "$(find -L node_modules/.pnpm -maxdepth 4 -type d -path '*/node_modules/@resvg/resvg-js' | head -1)" "$k/node_modules/@resvg/"
cp -rL "$(find -L node_modules/.pnpm -maxdepth 4 -type d -path '*/node_modules/@resvg/resvg-js-linux-x64-gnu' | head -1)" "$k/node_modules/@resvg/"
mkdir -p "$k/wasm"; cp packages/samplers/node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$k/wasm/"
