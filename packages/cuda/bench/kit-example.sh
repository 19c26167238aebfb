#!/usr/bin/env bash
# From the repository root, after `pnpm build` and `../shared/gpu/kit.sh prepare` (or a copy of node.xz, debs/,
# run.sh and node_modules/webgpu in .gpu-kit/): puts `pnpm example` into the GPU kit as .gpu-kit/example.mjs (one
# esbuild bundle; `webgpu` from the kit), with @ebm/viz's optional Node peers next to it (linkedom bundled into one
# CommonJS file; @resvg/resvg-js and its linux-x64-gnu binary copied from the store) and tfjs's wasm files.
# On the GPU machine, e.g.:
#   cd .gpu-kit && bash run.sh node example.mjs energy-matching-2d --backend webgpu --dataset twoMoons \
#     --flow-steps 20000 --joint-steps 2000 --checkpoint-every 2000 -o "$OUT"
set -e
root=$(git rev-parse --show-toplevel); cd "$root"
E=node_modules/.pnpm/esbuild@0.25.12/node_modules/esbuild/bin/esbuild
k=.gpu-kit
NODE_PATH="$root/packages/samplers/node_modules:$root/packages/cuda/node_modules:$root/apps/examples/node_modules" \
  "$E" apps/examples/src/run-example.ts \
  --bundle --platform=node --format=esm --target=node20 --external:webgpu --external:@resvg/resvg-js \
  --outfile=$k/example.mjs --log-level=warning \
  --banner:js="import {createRequire as __cr} from 'module'; import {fileURLToPath as __fu} from 'url'; import {dirname as __dn} from 'path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
L=$(find -L node_modules/.pnpm -maxdepth 3 -type d -path '*linkedom@*/node_modules/linkedom' | head -1)
mkdir -p $k/node_modules/linkedom $k/node_modules/@resvg
tmp=$(mktemp -d); echo 'module.exports = require("linkedom");' > "$tmp/lk.cjs"
NODE_PATH=$(dirname "$L") "$E" "$tmp/lk.cjs" --bundle --platform=node --format=cjs --outfile=$k/node_modules/linkedom/index.js --log-level=warning
echo '{"name":"linkedom","main":"index.js"}' > $k/node_modules/linkedom/package.json
rm -rf "$tmp" $k/node_modules/@resvg/*
cp -rL "$(find -L node_modules/.pnpm -maxdepth 4 -type d -path '*/node_modules/@resvg/resvg-js' | head -1)" $k/node_modules/@resvg/
cp -rL "$(find -L node_modules/.pnpm -maxdepth 4 -type d -path '*/node_modules/@resvg/resvg-js-linux-x64-gnu' | head -1)" $k/node_modules/@resvg/
mkdir -p $k/wasm; cp packages/samplers/node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm $k/wasm/
# the bundled wasm backend looks for its .wasm files beside the bundle
cp packages/samplers/node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm $k/
ls -la $k/example.mjs
