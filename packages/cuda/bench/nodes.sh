#!/usr/bin/env bash
# Run by go.sh through run.sh (kit node on PATH, Vulkan/GL loaders unpacked). Copied from ../shared/gpu/compare/.
cd "$(dirname "$0")" || exit 1
filt() { grep -v -e '^Warning' -e '^====' -e 'looks like you are running TensorFlow.js' -e '^$'; }
timeout 60 node ebm.mjs info 2>&1 | filt
if grep -q '"section":"info","error"' "$OUT/ebm.jsonl" 2>/dev/null || ! grep -q '"section":"info"' "$OUT/ebm.jsonl" 2>/dev/null; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  echo "retrying with VK_DRIVER_FILES"; ls /usr/local/nvidia/share/vulkan/icd.d/ 2>&1
  timeout 60 node ebm.mjs info 2>&1 | filt
fi
# Issue 11 sections (not in the default list): NODE_SECTIONS="chainprof/180 nanhunt/240" (chain-sections.mjs).
# Issue 15 (Energy Matching flow step, fused vs autograd; flow-sections.mjs): NODE_SECTIONS="emflow/240".
for pair in ${NODE_SECTIONS:-prof/60 lgv:0/120 kinds/150 hmc/70 mala/50 nuts/50 mlp/40 train/120 trainfused/150 mlpcoop/60 lgv:1/50 lgv:2/60}; do
  s=${pair%/*}; c=${pair#*/}
  timeout "$c" node ebm.mjs "$s" $S $NODE_ARGS 2>&1 | filt
  echo "[$s] rc=${PIPESTATUS[0]} at $(( $(date +%s) - T0 )) s"
done
