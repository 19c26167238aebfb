#!/usr/bin/env bash
# From the repository root, after `pnpm build` and `../shared/gpu/kit.sh prepare`: puts `pnpm demo` into the GPU kit
# as .gpu-kit/demo.mjs (one esbuild bundle; `webgpu` from the kit), with @ebm/viz's optional Node peers next to it
# (linkedom bundled into one CommonJS file; @resvg/resvg-js and its linux-x64-gnu binary copied from the store).
# On the GPU machine: cd .gpu-kit && bash run.sh node demo.mjs --backend webgpu -o "$OUT/demo"
set -e
root=$(git rev-parse --show-toplevel); cd "$root"
bash packages/cuda/bench/kit-bundle.sh apps/examples/src/demo/cli.ts .gpu-kit/demo.mjs
ls -la .gpu-kit/demo.mjs
