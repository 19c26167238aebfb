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
bash packages/cuda/bench/kit-bundle.sh apps/examples/src/run-example.ts .gpu-kit/example.mjs
# the bundled wasm backend looks for its .wasm files beside the bundle
cp packages/samplers/node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm .gpu-kit/
# The GPU machine has no fonts: resvg drew the PNGs there without any text (titles, ticks, legends). Carry DejaVu
# Sans (the viz default family, 1.4 MB) in .gpu-kit/fonts; em-sweep.sh points resvg's fontconfig at it
# (FONTCONFIG_FILE; for another command: bash packages/cuda/bench/kit-fonts.sh prints the export line).
mkdir -p .gpu-kit/fonts
for f in DejaVuSans.ttf DejaVuSans-Bold.ttf; do
  src=$(find /usr/share/fonts -name "$f" -print -quit 2>/dev/null || true)
  if [ -n "$src" ]; then cp "$src" .gpu-kit/fonts/; else echo "note: no $f here: PNGs made on the device will lack text"; fi
done
ls -la .gpu-kit/example.mjs
