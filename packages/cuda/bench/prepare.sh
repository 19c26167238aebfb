#!/usr/bin/env bash
# From the repository root, after `pnpm build` and `../shared/gpu/kit.sh prepare`: bundles this harness into
# .gpu-kit/ebm.mjs (no shim: setupWebGpu imports the tfjs WebGPU backend literally) and copies the scripts.
# TorchEBM's source goes to .gpu-kit/tebm (never committed): TEBM_GIT=<git dir of a torchebm clone>.
set -e
root=$(git rev-parse --show-toplevel); cd "$root"
b=packages/cuda/bench
# esbuild as ../shared/gpu/compare/bundle.sh: webgpu external, ESM, node20, __dirname for tfjs-backend-wasm.
E=node_modules/.pnpm/esbuild@0.25.12/node_modules/esbuild/bin/esbuild
NODE_PATH="$root/packages/samplers/node_modules" "$E" $b/gpu-compare.mjs --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --outfile=.gpu-kit/ebm.mjs --log-level=warning \
  --banner:js="import {createRequire as __cr} from 'module'; import {fileURLToPath as __fu} from 'url'; import {dirname as __dn} from 'path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
cp $b/go.sh $b/nodes.sh $b/tebm_bench.py $b/analyze.py .gpu-kit/
rm -rf .gpu-kit/node_modules/@tensorflow
node .gpu-kit/ebm.mjs dump-mlp .gpu-kit/mlp_weights.json
if [ -n "${TEBM_GIT:-}" ] && [ ! -d .gpu-kit/tebm/torchebm ]; then
  mkdir -p .gpu-kit/tebm
  git --git-dir="$TEBM_GIT" archive a77aeee torchebm | tar -x -C .gpu-kit/tebm
  echo '__version__ = "0+git.a77aeee"' > .gpu-kit/tebm/torchebm/_version.py
fi
du -sh .gpu-kit
