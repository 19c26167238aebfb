#!/usr/bin/env bash
# Energy matching on two moons: several `example.mjs energy-matching-2d --backend webgpu` configurations at once
# (the GPU is dispatch-bound and the host has 16 cores, so 4 processes share it well), each under a time cap,
# each writing its checkpoints (summary.json with MMD² per checkpoint, the landscape figure, the samples) to
# $OUT/<config>/energy-matching-2d/ and its log to $OUT/<config>/log.txt; then one table of every checkpoint.
# Packaging (the device returns at most 8 files, at most 2 folders deep): after the table, each configuration's
# PNGs, summary.json, samples, log and command go into ONE file $OUT/<config>.tgz (`tar xzf P6.tgz` gives
# P6/log.txt, P6/cmd.txt, P6/energy-matching-2d/{*.png,summary.json,*-samples.json}) and $OUT/<config>/ is deleted
# (SVGs etc.); with at most 3 configurations the last landscape also lies flat as $OUT/<config>-landscape.png. So
# $OUT holds table.txt + one .tgz per configuration (+ ≤ 3 PNGs): ≤ 8 files for ≤ 4 configurations (or 7 for 3).
# EM_KEEP=1 keeps the folders as they are (no packing), for a local look.
#
# Prepare (here, from the repository root): pnpm build && ../shared/gpu/kit.sh prepare && bash packages/cuda/bench/kit-example.sh
# On the device (repository root, carry [".gpu-kit"]), within one ≤ 9-minute call:
#   bash packages/cuda/bench/em-sweep.sh                 # the four configurations below, 470 s cap each
#   bash packages/cuda/bench/em-sweep.sh A C             # a subset
# Environment: OUT (default out/em-sweep), EM_RESUME (--resume-dir root, default .gpu-kit/resume), EM_FLAT=0 (no flat PNGs), EM_CAP (seconds per process, default 470), EM_BACKEND (default
# webgpu), EM_LOCAL=1 (use this machine's node, not the kit's; for a smoke on lavapipe / wasm), EM_SMOKE=1 (tiny
# lengths after the configuration's flags: a check that every configuration starts, trains, checkpoints and writes
# its files), EM_EXTRA (more arguments for every configuration).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cd "$root" || exit 1
k=$root/.gpu-kit
export OUT=${OUT:-$root/out/em-sweep}
CAP=${EM_CAP:-470}
BACKEND=${EM_BACKEND:-webgpu}
[ -f "$k/example.mjs" ] || { echo "no $k/example.mjs: run packages/cuda/bench/kit-example.sh first"; exit 1; }
if [ "${EM_LOCAL:-0}" = 1 ]; then
  NODE=node
else
  bash "$k/run.sh" true || exit 1 # unpack the kit once (its libraries and node), not once per process
  NODE=$k/bin/node
  export PATH="$k/bin:$PATH"
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
# text in the PNGs: the device has no fonts; use the kit's (kit-example.sh copies DejaVu Sans into .gpu-kit/fonts)
# shellcheck source=kit-fonts.sh
. "$here/kit-fonts.sh"

# --resume-dir folders of the configurations that checkpoint their training (Q1): packed into $OUT/resume.tgz (the
# newest checkpoint of each phase) so the next call continues them: `tar xzf resume.tgz -C .gpu-kit/` there first.
RESUME=${EM_RESUME:-$k/resume}

# Configurations around the paper's set-up (TorchEBM 2-D: 20k flow + 2k joint steps at lr 1e-4, batch 256,
# 200-step tempered chains of Δ = 0.01, λ = 2, τ* = 0.8, ε_max = 0.15). RECIPES.md (issue 15): the joint phase
# carves the valleys (0.169 → 0.022 in 100 joint steps on the CPU; 0.129 → 0.029 in 250 on the H200), a flow
# phase at 2e-3 is enough to start from, and exact OT reads synchronously (cpu/wasm only), so the GPU runs use
# independent pairs (44 ms per flow step on the H200). Estimated alone on the H200: flow 2000 × 44 ms ≈ 90 s, joint
# ≈ 100–150 ms per step with 200-step chains (two fused chain.mlp calls + ≈ 750 other kernels) ≈ 200–300 s per
# 2000 steps. Joint checkpoints every 250 steps: a run cut by the cap still leaves its last scores and figure.
COMMON="--dataset twoMoons --coupling independent --flow-steps 2000 --flow-lr 2e-3 --checkpoint-every 1000 --joint-checkpoint-every 250 --log-every 100"
declare -A CFG=(
  # the paper's chains (200 steps of 0.01), joint lr 1e-3 (cosine to 1e-4), batch 256
  [A]="$COMMON --joint-steps 2000 --joint-lr 1e-3 --n-langevin 200 --langevin-dt 0.01 --batch-size 256"
  # the same with batch 1024 (on the GPU a bigger batch costs little: less noisy CD and flow gradients)
  [B]="$COMMON --joint-steps 2000 --joint-lr 1e-3 --n-langevin 200 --langevin-dt 0.01 --batch-size 1024"
  # 4× cheaper chains (50 steps of 0.04, the same transport time), more joint steps
  [C]="$COMMON --joint-steps 3000 --joint-lr 1e-3 --n-langevin 50 --langevin-dt 0.04 --batch-size 512"
  # the paper's chains at a lower joint lr (3e-4 → 3e-5), batch 512
  [D]="$COMMON --joint-steps 2000 --joint-lr 3e-4 --n-langevin 200 --langevin-dt 0.01 --batch-size 512"
  # The paper's own set-up (--setup paper: eight gaussians at radius 5 → 3·moons(0.2) − 1, exact OT through fit's
  # pre-pass, batch 128, constant lr, 4 × 128 SiLU, no trim/clamp), shortened to fit a call: the flow phase at a
  # higher lr instead of 20k steps at 1e-4 (the fused flow step is ≈ 23 ms on the H200).
  [P1]="--setup paper --flow-steps 8000 --flow-lr 3e-4 --joint-steps 1500 --joint-lr 1e-4 --checkpoint-every 4000 --joint-checkpoint-every 250 --log-every 500"
  [P2]="--setup paper --flow-steps 4000 --flow-lr 1e-3 --joint-steps 2000 --joint-lr 1e-4 --n-langevin 50 --langevin-dt 0.04 --checkpoint-every 2000 --joint-checkpoint-every 250 --log-every 500"
  [P3]="--setup paper --batch-size 512 --flow-steps 4000 --flow-lr 1e-3 --joint-steps 1500 --joint-lr 3e-4 --checkpoint-every 2000 --joint-checkpoint-every 250 --log-every 500"
  # P2 with the joint phase at full length (2000 steps), alone or in pairs; P5 the same at a joint lr of 3e-4
  [P4]="--setup paper --flow-steps 4000 --flow-lr 1e-3 --joint-steps 2000 --joint-lr 1e-4 --n-langevin 50 --langevin-dt 0.04 --checkpoint-every 4000 --joint-checkpoint-every 250 --log-every 500"
  [P5]="--setup paper --flow-steps 4000 --flow-lr 1e-3 --joint-steps 2000 --joint-lr 3e-4 --n-langevin 50 --langevin-dt 0.04 --checkpoint-every 4000 --joint-checkpoint-every 250 --log-every 500"
  # Session 13 (run 3 at once: ≈ 45 ms per flow step and ≈ 60–70 ms per joint step with 50-step chains, so each is
  # sized to ≈ 400–450 s under the 470 s cap, checkpoints included; a joint checkpoint scores the 200-step samples and
  # the same after 200 more steps at ε_max, `mmd2Long`, to tell training-limited from sampling-limited scores).
  # P6: P4's recipe with twice the joint phase (4000 steps); the flow phase cut to 3000 steps to fit.
  [P6]="--setup paper --flow-steps 3000 --flow-lr 1e-3 --joint-steps 4000 --joint-lr 1e-4 --n-langevin 50 --langevin-dt 0.04 --checkpoint-every 3000 --joint-checkpoint-every 500 --log-every 500"
  # P7: P4's recipe with batch 512 in the joint phase (4× the negatives and the data per contrastive step; the flow
  # phase stays at the paper's 128). Exact OT pairs the batch on the host every step (Hungarian, O(n³)): 512 costs
  # ≈ 21× a 128 pairing (measured on the 2-core VM: 35 ms at 128, 753 ms at 512 under load ≈ 20), so perhaps
  # +75 ms per joint step on the H200's host (≈ 140 ms a step; a smoke here: 10× P8's joint step): 1500 joint steps
  [P7]="--setup paper --flow-steps 3000 --flow-lr 1e-3 --joint-steps 1500 --joint-lr 1e-4 --joint-batch-size 512 --n-langevin 50 --langevin-dt 0.04 --checkpoint-every 3000 --joint-checkpoint-every 500 --log-every 500"
  # P8: P4's recipe with the joint lr decaying (cosine) from 1e-4 to 5e-5 over 3500 steps (P4 still improved at 500,
  # P5's 3e-4 was noisier: a smaller late rate to settle the valleys)
  [P8]="--setup paper --flow-steps 3000 --flow-lr 1e-3 --joint-steps 3500 --joint-lr 1e-4 --joint-lr-end 5e-5 --n-langevin 50 --langevin-dt 0.04 --checkpoint-every 3000 --joint-checkpoint-every 500 --log-every 500"
  # P9: the paper's own negative chains (200 steps of Δ 0.01; ≈ 2× a 50-step joint step with the fused chain.mlp)
  # after P4's flow phase: do the cheap chains limit the score?
  [P9]="--setup paper --flow-steps 3000 --flow-lr 1e-3 --joint-steps 2000 --joint-lr 1e-4 --n-langevin 200 --langevin-dt 0.01 --checkpoint-every 3000 --joint-checkpoint-every 500 --log-every 500"
  # Session 14: the paper's moons are torchdyn's (one U[0, 0.2) shift of both coordinates: thin arcs; `paperMoons`),
  # not scikit-learn's Gaussian blur, which every P run above trained on. Q1: the paper's whole run (20k flow + 2k
  # joint at 1e-4, 200-step chains of Δ 0.01) checkpointed to $RESUME/Q1, continued across calls; Q2: P4's short
  # recipe; Q3: Q2 with the paper's 200-step chains.
  [Q1]="--setup paper --resume-dir $RESUME/Q1 --checkpoint-every 10000 --joint-checkpoint-every 500 --log-every 1000"
  [Q2]="--setup paper --flow-steps 4000 --flow-lr 1e-3 --joint-steps 2000 --n-langevin 50 --langevin-dt 0.04 --checkpoint-every 4000 --joint-checkpoint-every 500 --log-every 500"
  [Q3]="--setup paper --flow-steps 4000 --flow-lr 1e-3 --joint-steps 2000 --checkpoint-every 4000 --joint-checkpoint-every 500 --log-every 500"
  # the library's set-up (N(0, I) → two moons, noise 0.05) with exact OT, now possible on webgpu (fit's pre-pass)
  [L1]="--dataset twoMoons --coupling exactOt --flow-steps 2000 --flow-lr 2e-3 --joint-steps 1500 --joint-lr 1e-3 --n-langevin 200 --batch-size 256 --checkpoint-every 1000 --joint-checkpoint-every 250 --log-every 100"
)
# smoke: the configuration's own flags, then tiny lengths (the CLI keeps an option's last value)
SMOKE_ARGS="--flow-steps 4 --joint-steps 4 --checkpoint-every 2 --joint-checkpoint-every 2 --n-langevin 5 --batch-size 64 --smoke"

names=("$@"); [ ${#names[@]} -gt 0 ] || names=(A B C D)
mkdir -p "$OUT"
T0=$(date +%s)
pids=()
for n in "${names[@]}"; do
  args=${CFG[$n]:-}
  [ -n "$args" ] || { echo "unknown configuration $n (one of ${!CFG[*]})"; exit 2; }
  [ "${EM_SMOKE:-0}" = 1 ] && args="$args $SMOKE_ARGS"
  mkdir -p "$OUT/$n"
  echo "$n: energy-matching-2d --backend $BACKEND $args ${EM_EXTRA:-}" | tee "$OUT/$n/cmd.txt"
  # shellcheck disable=SC2086
  (timeout -s TERM "$CAP" "$NODE" "$k/example.mjs" energy-matching-2d --backend "$BACKEND" $args ${EM_EXTRA:-} \
    -o "$OUT/$n" >"$OUT/$n/log.txt" 2>&1; echo "rc=$? after $(($(date +%s) - T0)) s" >>"$OUT/$n/log.txt") &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
echo "all done after $(($(date +%s) - T0)) s"
# One line per checkpoint of every configuration, from the summary.json files the runs left.
"$NODE" -e '
const fs = require("fs"), path = require("path");
for (const n of process.argv.slice(1)) {
  const dir = path.join(process.env.OUT, n);
  const log = fs.existsSync(path.join(dir, "log.txt")) ? fs.readFileSync(path.join(dir, "log.txt"), "utf8") : "";
  // rc=1 with a "✓" line is a finished run: the bundle also runs the main guard of every other example module, which
  // fails at once (no cpu backend in the kit) and sets the exit code. rc=124: cut by the cap.
  const rc = (log.includes("✓ energy-matching-2d") ? "finished, " : "") + (log.match(/rc=\S+ after \d+ s/) || ["rc=?"])[0];
  const f = path.join(dir, "energy-matching-2d", "summary.json");
  if (!fs.existsSync(f)) { console.log(`${n}: no summary.json (${rc}); tail of log:\n${log.split("\n").slice(-8).join("\n")}`); continue; }
  const s = JSON.parse(fs.readFileSync(f, "utf8"));
  const r = s.results.twoMoons || {};
  if (s.setup) console.log(`${n}: setup ${s.setup}, coupling ${s.coupling}, batch ${s.batchSize}`);
  const pts = (r.progress || []).map((p) => `${p.phase} ${p.step}: ${p.mmd2}${p.mmd2Long !== undefined ? ` / ${p.mmd2Long}` : ""} (${p.elapsedSeconds} s)`).join(" | ");
  console.log(`${n} [${rc}${s.complete ? ", complete" : ", cut"}; ms/flow ${r.msPerFlowStep ?? "?"}, ms/joint ${r.msPerJointStep ?? "?"}]: ${pts}`);
  if (r.afterJoint) console.log(`${n} final MMD² ${r.afterJoint.mmd.samples} (floor ${r.afterJoint.mmd.floor}, noise ${r.afterJoint.mmd.baseline}); half the steps ${r.afterJoint100Steps}; twice the steps (the second half at ε_max) ${r.afterJoint400Steps ?? "?"}`);
}
console.log("(joint checkpoints: MMD² after the sampler / after as many more steps at ε_max)");' "${names[@]}" | tee "$OUT/table.txt"

# Pack each configuration into one file (see the header); EM_KEEP=1 leaves the folders.
if [ "${EM_KEEP:-0}" != 1 ]; then
  for n in "${names[@]}"; do
    d=$OUT/$n
    [ -d "$d" ] || continue
    (
      cd "$OUT" || exit 1
      files=()
      for f in "$n/log.txt" "$n/cmd.txt" "$n"/energy-matching-2d/*.png "$n"/energy-matching-2d/summary.json \
        "$n"/energy-matching-2d/*-samples.json; do
        [ -f "$f" ] && files+=("$f")
      done
      if [ ${#names[@]} -le 3 ] && [ "${EM_FLAT:-1}" = 1 ]; then
        for f in "$n"/energy-matching-2d/*-landscape.png; do [ -f "$f" ] && cp "$f" "$n-landscape.png" && break; done
      fi
      tar czf "$n.tgz" "${files[@]}" && rm -rf "$n"
    )
  done
  if [ -d "$RESUME" ]; then
    (
      cd "$RESUME/.." || exit 1
      b=$(basename "$RESUME")
      files=()
      for d in "$b"/*/*/; do
        f=$(ls -1 "$d"checkpoint-*.json 2>/dev/null | sort -V | tail -1)
        [ -n "$f" ] && files+=("$f")
      done
      [ ${#files[@]} -gt 0 ] && tar czf "$OUT/resume.tgz" "${files[@]}"
    )
  fi
  echo "packed: $(cd "$OUT" && ls | tr '\n' ' ')"
fi
