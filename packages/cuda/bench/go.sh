#!/usr/bin/env bash
# On the device machine: bash .gpu-kit/go.sh small|full|ebm|tebm   (copied from ../shared/gpu/compare/, extended)
# Runs the TorchEBM side (python3 + torch there) then the @ebm side (node from the kit, Dawn) one section per
# process, each under a time cap. Full rows go to $OUT/tebm.jsonl and $OUT/ebm.jsonl; stdout gets summaries.
k=$(cd "$(dirname "$0")" && pwd); cd "$k" || exit 1
mode=${1:-full}; S=; [ "$mode" = small ] && S=--small
export PYTHONPATH=$k/tebm PYTHONUNBUFFERED=1 OUT=${OUT:-$k/out} T0=$(date +%s) S
# The GPU at sustained clocks before each timed @ebm row (an idle H200 runs the first ~1 ms kernels slower; TorchEBM's
# Triton rows run right after its heavy eager rows): gpu-compare.mjs's measure() runs the call back to back first.
export EBM_WARM_MS=${EBM_WARM_MS:-400}
mkdir -p "$OUT"
{ nvidia-smi; nvidia-smi -q -d CLOCK,PERFORMANCE; uname -a; lscpu; } > "$OUT/env.txt" 2>&1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total --format=csv,noheader; uname -r; nproc
if [ "$mode" != ebm ]; then
  timeout "${PYCAP:-240}" python3 tebm_bench.py $S ${PY_SECTIONS:-info lgv kinds hmc mlp train}
  echo "[python] rc=$? at $(( $(date +%s) - T0 )) s"
fi
[ "$mode" = tebm ] || bash run.sh bash "$k/nodes.sh"
