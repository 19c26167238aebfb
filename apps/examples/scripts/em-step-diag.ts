/**
 * Diagnostic (not a test): per-step work of `energy-matching-2d --setup paper` on webgpu (lavapipe here, or any
 * Dawn adapter): tfjs kernels, WebGPU dispatches by shader, host reads (with the caller that issued each), which
 * fused paths run (`train.mlpGradientRegression`, `chain.mlp`, coop vs row program) and the exact-OT pre-pass's
 * cost (reads, host Hungarian time for 128×128).
 *
 *   EBM_TEST_WEBGPU=1 XDG_RUNTIME_DIR=/tmp nice pnpm --filter @ebm/examples exec tsx scripts/em-step-diag.ts
 *
 * Env: FLOW (flow steps, 5), JOINT (joint steps, 4), NLANGEVIN (50), LAYERS (4), WIDTH (128), FUSED (1; 0 runs
 * fit with `fusedStep: false`: autograd + tfjs's Adam instead of the fused flow / CD steps).
 */
import {
  chainKernelName,
  EbmError,
  foldIn,
  getKernelImpl,
  hungarianAssignment,
  kernelSource,
  MLP_GRADIENT_REGRESSION_KERNEL,
  rngKey,
} from '@ebm/core';
import { countKernelCalls } from '@ebm/core/testing';
import { setupWebGpu } from '@ebm/cuda';
import { EnergyMatchingLoss, fit } from '@ebm/losses';
import { MLPEnergy } from '@ebm/models';
import * as tf from '@tensorflow/tfjs-core';
import { coopShape, mlpLangevinProgram } from '../../../packages/cuda/src/mlp-coop.js';
import { mlpLayout } from '../../../packages/cuda/src/mlp-energy.js';
import { paperMoons, paperSource } from '../src/examples/energy-matching-2d.js';

const FLOW = Number(process.env.FLOW ?? 5);
const JOINT = Number(process.env.JOINT ?? 4);
const NL = Number(process.env.NLANGEVIN ?? 50);
const LAYERS = Number(process.env.LAYERS ?? 4);
const WIDTH = Number(process.env.WIDTH ?? 128);
const FUSED = process.env.FUSED !== '0';

// EXAMPLE_SETUP=1: the backend exactly as `example.mjs --backend webgpu` sets it up (lib/backend.ts'
// selectBackend); default: setupWebGpu() (which registers @ebm/cuda's fused kernels, as the emflow harness does).
if (process.env.EXAMPLE_SETUP === '1') {
  const { selectBackend } = await import('../src/lib/backend.js');
  console.log('selectBackend:', await selectBackend('webgpu'));
} else {
  await setupWebGpu();
}
console.log(
  `kernelSource: ${MLP_GRADIENT_REGRESSION_KERNEL} → ${kernelSource(MLP_GRADIENT_REGRESSION_KERNEL)}, chain.mlp → ${kernelSource(chainKernelName('mlp'))}`,
);
const be = tf.backend() as unknown as {
  runWebGPUProgram: (...a: unknown[]) => unknown;
  read: (id: unknown) => Promise<unknown>;
  readSync?: (id: unknown) => unknown;
  device: { limits: Record<string, number> };
  pipelineCache: Record<string, unknown>;
  adapterInfo?: Record<string, unknown>;
};
console.log(
  'adapter',
  be.adapterInfo?.description ?? be.adapterInfo?.vendor,
  'wg storage',
  be.device.limits.maxComputeWorkgroupStorageSize,
);

// --- instruments: dispatches by shader, reads by caller, tfjs kernels by name
const st = {
  on: false,
  dispatches: 0,
  reads: 0,
  byShader: {} as Record<string, number>,
  readBy: {} as Record<string, number>,
  kernels: 0,
  byKernel: {} as Record<string, number>,
};
const reset = () =>
  Object.assign(st, { dispatches: 0, reads: 0, byShader: {}, readBy: {}, kernels: 0, byKernel: {} });
const runProgram = be.runWebGPUProgram.bind(be);
be.runWebGPUProgram = (program: unknown, ...rest: unknown[]) => {
  if (st.on) {
    st.dispatches++;
    const k = String((program as { shaderKey: string }).shaderKey)
      .replace(/_[\d_]+$/, '')
      .slice(0, 40);
    st.byShader[k] = (st.byShader[k] ?? 0) + 1;
  }
  return runProgram(program, ...rest);
};
const read = be.read.bind(be);
be.read = (id: unknown) => {
  if (st.on) {
    st.reads++;
    const frames = (new Error().stack ?? '').split('\n').slice(2);
    const f =
      frames.find(
        (l) => /packages\/(losses|core)\/dist|apps\/examples/.test(l) && !/host-read|tensor\.js/.test(l),
      ) ?? '?';
    const where = f.replace(/.*\/(packages|apps)\//, '').replace(/\)$/, '');
    st.readBy[where] = (st.readBy[where] ?? 0) + 1;
  }
  return read(id);
};
const engine = tf.engine() as unknown as { runKernelFunc: (p: { kernelName?: string }) => unknown };
const rkf = engine.runKernelFunc.bind(engine);
engine.runKernelFunc = (p) => {
  if (st.on) {
    st.kernels++;
    const n = p.kernelName ?? 'customGrad';
    st.byKernel[n] = (st.byKernel[n] ?? 0) + 1;
  }
  return rkf(p);
};
const top = (o: Record<string, number>, n = 12) =>
  Object.fromEntries(
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .slice(0, n),
  );

// --- the paper's set-up at tiny lengths
const seed = 0;
const widths = Array.from({ length: LAYERS }, () => WIDTH);
const nTrain = 100_000;
const train = tf.tensor2d(paperMoons(nTrain, seed + 1), [nTrain, 2]);
const source = tf.tensor2d(paperSource(100_000, seed + 5), [100_000, 2]);
const V = new MLPEnergy({ inputDim: 2, widths, seed });
const loss = new EnergyMatchingLoss(V, {
  coupling: 'exactOt',
  nLangevinSteps: NL,
  langevinDt: 0.04,
  warmupSteps: FLOW,
  seed,
  source,
  flowWeighting: 'joint',
  cdTrimFraction: 0,
  cdClamp: Number.MAX_VALUE,
});
const optimizer = tf.train.adam(1e-4);

// Which chain program would run: coopShape for the two halves (64 rows each) at this device's limit and at
// WebGPU's default 16 KiB / Dawn's 32 KiB.
const layout = mlpLayout(V.kernelHint!.params as never, 2);
for (const lim of [16384, 32768, be.device.limits.maxComputeWorkgroupStorageSize ?? 16384]) {
  console.log(`coopShape(b=64, limit ${lim}):`, JSON.stringify(coopShape(layout, 64, 2, lim)));
}

// Size of the WGSL the H200 compiles for the joint step's chains (coop, per-step noise) vs 2 hidden layers.
for (const w of [[128, 128], widths]) {
  const e = new MLPEnergy({ inputDim: 2, widths: w, seed });
  const lay = mlpLayout(e.kernelHint!.params as never, 2);
  const prog = mlpLangevinProgram(lay, 64, 2, coopShape(lay, 64, 2, 16384)!, true);
  console.log(`coop program ${prog.shaderKey}: ${prog.getUserCode().length} chars of WGSL`);
  e.dispose();
}

/** countKernelCalls, or [f(), 'unregistered'] when the backend has no implementation of `name`. */
async function countCalls<T>(name: string, f: () => Promise<T>): Promise<[T, number | string]> {
  if (getKernelImpl(name as never, 'webgpu') === undefined) return [await f(), 'unregistered'];
  return countKernelCalls(name as never, 'webgpu', f);
}

async function phase(name: string, steps: number, seedFit: number) {
  const stamps: number[] = [];
  const pipes0 = Object.keys(be.pipelineCache).length;
  let firstPipes = 0;
  const tFit = performance.now();
  let counts: unknown;
  let cache0 = 0;
  const [[[, flowCalls], chainCalls]] = [
    await countCalls(chainKernelName('mlp'), () =>
      countCalls(MLP_GRADIENT_REGRESSION_KERNEL, () =>
        fit({
          loss,
          optimizer,
          learningRate: 1e-4,
          data: train,
          batchSize: 128,
          steps,
          seed: seedFit,
          fusedStep: FUSED,
          onStep: (m) => {
            stamps.push(performance.now());
            if (m.step === 0) {
              firstPipes = Object.keys(be.pipelineCache).length - pipes0;
              reset();
              st.on = true;
              cache0 = Object.keys(be.pipelineCache).length;
            }
            // stop before the last step (fit's end-of-run snapshot reads every weight and Adam slot)
            if (m.step === steps - 2) {
              st.on = false;
              const per = (v: number) => +(v / (steps - 2)).toFixed(2);
              counts = {
                kernelsPerStep: per(st.kernels),
                dispatchesPerStep: per(st.dispatches),
                readsPerStep: per(st.reads),
                newPipelinesPerStep: per(Object.keys(be.pipelineCache).length - cache0),
                kernelsByName: top(
                  Object.fromEntries(Object.entries(st.byKernel).map(([k, v]) => [k, per(v)])),
                ),
                dispatchesByShader: top(
                  Object.fromEntries(Object.entries(st.byShader).map(([k, v]) => [k, per(v)])),
                ),
                readsByCaller: Object.fromEntries(Object.entries(st.readBy).map(([k, v]) => [k, per(v)])),
              };
            }
          },
        }),
      ),
    ),
  ];
  const ms = stamps.slice(1).map((t, i) => +(t - stamps[i]!).toFixed(1));
  const sorted = [...ms].sort((a, b) => a - b);
  console.log(`[${name}] fused ${FUSED}: median step ${sorted[Math.floor(sorted.length / 2)]} ms`);
  console.log(
    `[${name}] steps ${steps}: mlpGradientRegression calls ${flowCalls}, chain.mlp calls ${chainCalls}; fit() start → first step ${(stamps[0]! - tFit).toFixed(0)} ms with ${firstPipes} new pipelines; later step ms (lavapipe) ${ms.join(' ')}; new shader keys: ${Object.keys(
      be.pipelineCache,
    )
      .slice(pipes0)
      .filter((k) => k.startsWith('ebm'))
      .map((k) => k.slice(0, 60))
      .join(', ')}`,
  );
  console.log(JSON.stringify(counts, null, 1));
}

await phase('flow', FLOW, seed);
await phase('joint', JOINT, seed + 1);

// fusedFlowTerm: does the kernel decline (NOT_IMPLEMENTED)?
try {
  const { runKernel } = await import('@ebm/core');
  const x = tf.randomNormal([128, 2]);
  const out = runKernel(MLP_GRADIENT_REGRESSION_KERNEL, {
    params: V.kernelHint!.params,
    x,
    targets: x,
    rowWeights: tf.ones([128]),
  } as never) as { loss: tf.Tensor; gradients: tf.Tensor[] };
  console.log('train.mlpGradientRegression direct call: ok, loss', (await out.loss.data())[0]);
} catch (e) {
  console.log('train.mlpGradientRegression direct call threw', e instanceof EbmError ? e.code : e, String(e));
}

// The exact-OT pre-pass alone: reads and wall time, then the host Hungarian 128×128.
const batch = tf.gather(train, tf.range(0, 128, 1, 'int32')) as tf.Tensor2D;
reset();
st.on = true;
const reps = 5;
let t0 = performance.now();
for (let i = 0; i < reps; i++) {
  const p = await loss.prepare(batch, { key: foldIn(rngKey(9), i) });
  p.dispose();
}
st.on = false;
console.log(
  `prepare (exactOt pre-pass): ${((performance.now() - t0) / reps).toFixed(1)} ms, reads ${st.reads / reps}, dispatches ${st.dispatches / reps}, kernels ${st.kernels / reps}`,
);
const cost = new Float32Array(128 * 128);
for (let i = 0; i < cost.length; i++) cost[i] = 50 * Math.random();
hungarianAssignment(cost, 128);
t0 = performance.now();
for (let i = 0; i < 20; i++) hungarianAssignment(cost, 128);
console.log(`host hungarianAssignment 128×128: ${((performance.now() - t0) / 20).toFixed(2)} ms`);
tf.dispose([train, source, batch]);
