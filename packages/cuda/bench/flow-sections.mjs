// Section `emflow` of gpu-compare.mjs (issue 15): one Energy Matching flow-term training step (flow-only
// phase) through fit(), with the fused train.mlpGradientRegression kernel vs tfjs autograd's double
// back-propagation (kernel unregistered), on the paper's 2-D network 2→128→128→128→1 SiLU. Imported by
// gpu-compare.mjs (bundled with it); `ctx` brings its helpers:
// { emit, median, gpu, watchDevice, small, repsArg, dawnErrors, instrumentBackend, spread, mem }.
//
// Rows: per path, fit() step times (intervals between onStep calls after `warm` steps: batch draw, pairs, t,
// x_t, the flow term and its gradient, Adam, the one metrics read, the guard), tfjs kernels per step (every
// engine.runKernelFunc call, nested ones included), WebGPU dispatches and host reads per step; then the bare
// flow term (value + gradient w.r.t. the weights, awaited) both ways; then the autograd / fused ratios.
import {
  MLP_GRADIENT_REGRESSION_KERNEL,
  registerKernelImpl,
  runKernel,
  unregisterKernelImpl,
} from '@ebm/core';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { EnergyMatchingLoss, fit } from '../../losses/dist/index.js';
import { timeCalls } from './timing.mjs';
import { twoMoonsTraining } from './train-setup.mjs';

/** Counts tfjs kernel calls (engine.runKernelFunc: every op, customGrad ops and their inner kernels). */
function countKernels() {
  const engine = tf.engine();
  const orig = engine.runKernelFunc.bind(engine);
  const st = { on: false, n: 0 };
  engine.runKernelFunc = (p) => {
    if (st.on) st.n++;
    return orig(p);
  };
  return { st, restore: () => (engine.runKernelFunc = orig) };
}

export async function sectionEmFlow(ctx) {
  const { emit, median, small, dawnErrors, instrumentBackend, spread, mem } = ctx;
  const { B, steps, warm, data, kernel, dataMeta } = await twoMoonsTraining(ctx, {
    kernelName: MLP_GRADIENT_REGRESSION_KERNEL,
    fullSteps: 50,
  });
  const meta = {
    section: 'emflow',
    loss: 'EnergyMatchingLoss flow-only (lambdaCd 0), independent coupling, sigma 0.1',
    energy: 'MLPEnergy 2-128-128-128-1 SiLU seed 0',
    batch: B,
    optimizer: 'adam 1e-3',
    ...dataMeta,
  };
  const inst = instrumentBackend();
  const kc = countKernels();
  const make = () => {
    const energy = new MLPEnergy({ inputDim: 2, widths: [128, 128, 128], activation: 'silu', seed: 0 });
    // The exact-OT coupling reads the cost matrix synchronously (not on webgpu): independent pairs.
    const loss = new EnergyMatchingLoss(energy, { coupling: 'independent', lambdaCd: 0 });
    const opt = tf.train.adam(1e-3);
    return {
      energy,
      loss,
      opt,
      dispose() {
        opt.dispose();
        energy.dispose();
      },
    };
  };
  /** Runs f with the fused kernel registered (fused) or not (autograd). */
  const withPath = async (fused, f) => {
    if (!fused) unregisterKernelImpl(MLP_GRADIENT_REGRESSION_KERNEL, 'webgpu');
    try {
      return await f();
    } finally {
      if (!fused && kernel)
        registerKernelImpl(MLP_GRADIENT_REGRESSION_KERNEL, 'webgpu', kernel, { override: true });
    }
  };
  const medians = {};
  try {
    for (const fused of [true, false]) {
      const path = `EM flow fit() step, ${fused ? 'fused train.mlpGradientRegression' : 'autograd double backprop'}`;
      const m = make();
      try {
        const stamps = [];
        let counts = {};
        const before = mem();
        const res = await withPath(fused, () =>
          fit({
            loss: m.loss,
            optimizer: m.opt,
            data,
            batchSize: B,
            steps: warm + steps,
            seed: 3,
            checkpointEvery: warm + steps,
            onStep: (s) => {
              stamps.push(performance.now());
              if (s.step === warm - 1) {
                inst.reset();
                inst.st.on = true;
                kc.st.n = 0;
                kc.st.on = true;
              }
              if (s.step === warm + steps - 2) {
                inst.st.on = false;
                kc.st.on = false;
                const per = (v) => Math.round((v / (steps - 1)) * 100) / 100;
                counts = {
                  tfjsKernelsPerStep: per(kc.st.n),
                  dispatchesPerStep: per(inst.st.dispatches),
                  readsPerStep: per(inst.st.reads),
                  dispatchesByShader: Object.fromEntries(
                    Object.entries(inst.st.byKey).map(([k, v]) => [k, per(v)]),
                  ),
                };
              }
            },
          }),
        );
        const ms = [];
        for (let k = warm; k < stamps.length - 1; k++) ms.push(stamps[k] - stamps[k - 1]);
        const after = mem();
        medians[fused ? 'fused' : 'autograd'] = median(ms);
        emit({
          side: 'ebm',
          ...meta,
          path,
          ...spread(ms),
          ...counts,
          lastLoss: res.history[res.history.length - 1]?.loss,
          tensorsAdded: {
            tensors: after.numTensors - before.numTensors,
            bytes: after.numBytes - before.numBytes,
          },
        });
      } catch (e) {
        emit({ side: 'ebm', ...meta, path, error: String(e?.stack ?? e).slice(0, 1500), dawnErrors });
      } finally {
        inst.st.on = false;
        kc.st.on = false;
        m.dispose();
      }
    }
    // The bare flow term: value and weight gradients of L = Σ c‖∇ₓV + u‖², awaited (no fit, no Adam).
    const bare = {};
    const m = make();
    const x = tf.tidy(() => tf.randomNormal([B, 2], 0, 1, 'float32', 1));
    const u = tf.tidy(() => tf.randomNormal([B, 2], 0, 1, 'float32', 2));
    const c = tf.fill([B], 1 / (2 * B));
    const vars = m.energy.trainableVariables;
    try {
      for (const fused of [true, false]) {
        const once = async () => {
          const { value, grads } = tf.variableGrads(() => {
            if (fused) {
              // Through the kernel directly (what the loss's customGrad op calls).
              const out = runKernel(MLP_GRADIENT_REGRESSION_KERNEL, {
                params: m.energy.kernelHint.params,
                x,
                targets: u,
                rowWeights: c,
              });
              const g = out.gradients;
              // A differentiable stand-in so variableGrads has something to return: Σ wᵢ·stop(gᵢ).
              // (Pairwise adds: tfjs webgpu's AddN of 8 inputs exceeds 8 storage buffers.)
              return vars.slice(0, -1).reduce((acc, v, i) => tf.add(acc, tf.sum(tf.mul(v, g[i]))), out.loss);
            }
            const g = m.energy.gradient(x, { checkFinite: false });
            return tf.sum(tf.mul(c, tf.sum(tf.square(tf.add(g, u)), 1)));
          }, vars);
          await value.data();
          tf.dispose([value, ...Object.values(grads)]);
        };
        const ms = [];
        await withPath(fused, async () => {
          for (let k = 0; k < 3; k++) await once();
          kc.st.n = 0;
          kc.st.on = true;
          await once();
          kc.st.on = false;
          ms.push(...(await timeCalls(() => once(), { reps: small ? 5 : 30 })));
        });
        bare[fused ? 'fused' : 'autograd'] = median(ms);
        emit({
          side: 'ebm',
          ...meta,
          path: `bare flow term value + weight gradients, ${fused ? 'train.mlpGradientRegression (+ a dot with the gradients)' : 'autograd double backprop'}`,
          ...spread(ms),
          tfjsKernelsPerCall: kc.st.n,
        });
      }
    } finally {
      kc.st.on = false;
      tf.dispose([x, u, c]);
      m.dispose();
    }
    if (medians.fused !== undefined && medians.autograd !== undefined) {
      const row = {
        side: 'ebm',
        ...meta,
        path: 'EM flow fit() step: autograd / fused (same run)',
        speedup: medians.autograd / medians.fused,
        fusedMedianMs: medians.fused,
        autogradMedianMs: medians.autograd,
        bareSpeedup: bare.autograd / bare.fused,
      };
      emit(row);
      console.log(
        `S ebm emflow | speed-up autograd/fused: fit step ${row.speedup.toFixed(2)}x, bare term ${row.bareSpeedup.toFixed(2)}x`,
      );
    }
  } finally {
    inst.restore();
    kc.restore();
    data.dispose();
  }
}
