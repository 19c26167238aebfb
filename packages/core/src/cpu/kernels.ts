import * as tf from '@tensorflow/tfjs-core';
import type { ChainKernelInputs, ChainTraceKernelInputs, ChainTraceKernelOutput } from '../energy-kinds.js';
import { EbmError } from '../errors.js';
import {
  chainKernelName,
  chainTraceKernelName,
  type LangevinStepInputs,
  langevinStepComposite,
  registerKernelImpl,
} from '../kernels.js';
import { largeNormals } from '../large-normals.js';
import { type AcceptCounts, parseChainSpec, runChainHost, runParsedChain } from './host-chain.js';
import { HOST_ENERGY_KINDS } from './host-energies.js';
import { assertRank2, HOST_BACKENDS, hostParamsSync, readHost } from './host-tensors.js';
import { MLP_KIND, mlpUsesSimd } from './mlp.js';
import { normalRangeWasm } from './philox.js';

/**
 * Core's fused CPU kernels, registered in the kernel registry for the host backends `cpu` and `wasm`:
 * - `chain.<kind>` for every analytic kind of `@ebm/models` and for `mlp`: whole Langevin / MALA / HMC chains in
 *   tight loops with Philox normals drawn in the loop (see `host-chain.ts`; the MLP's matrix products in
 *   WebAssembly SIMD, `mlp-wasm.ts`).
 * - {@link langevinStepHost}, a one-loop `langevinStep`, is exported but not registered: the registry has no
 *   "default implementation" tier, so registering it would make every user registration of `langevinStep` on
 *   cpu/wasm need `{ override: true }`.
 * On `cpu` both are bit-identical to the composite path (the step loop) for the same keys. On `wasm` they give
 * the same numbers as on `cpu` (host arithmetic), which differ from wasm's own composite ops in the last bits.
 * Registered when `@ebm/core` loads; {@link registerCpuKernels} is idempotent.
 * @module
 */

// normalArray's large draws (e.g. the x0 of every run) through the wasm normal filler: the same numbers.
largeNormals.fill = (k0, k1, n, out) => normalRangeWasm(k0, k1, 0, n, out, 0);

/** Fused `langevinStep`: `x − h·grad + σ√(2h)·noise` in one loop, rounding as the composite does. */
export function langevinStepHost(inputs: LangevinStepInputs): tf.Tensor2D {
  const { x, grad, noise, stepSize, noiseScale } = inputs;
  const shape = assertRank2(x, 'x');
  if (
    !(grad instanceof tf.Tensor) ||
    grad.shape[0] !== shape[0] ||
    grad.shape[1] !== shape[1] ||
    !(noise instanceof tf.Tensor) ||
    noise.shape[0] !== shape[0] ||
    noise.shape[1] !== shape[1] ||
    typeof stepSize !== 'number' ||
    typeof noiseScale !== 'number'
  ) {
    return langevinStepComposite(inputs); // broadcasting or tensor-valued settings: the composite handles them
  }
  const f = Math.fround;
  const xs = readHost(x, 'x');
  const gs = readHost(grad, 'grad');
  const hf = f(stepSize);
  const amp = noiseScale * Math.sqrt(2 * stepSize);
  if (amp === 0) {
    for (let i = 0; i < xs.length; i++) xs[i] = xs[i]! - f(gs[i]! * hf);
  } else {
    const zs = readHost(noise, 'noise');
    const af = f(amp);
    for (let i = 0; i < xs.length; i++) xs[i] = f(xs[i]! - f(gs[i]! * hf)) + f(zs[i]! * af);
  }
  return tf.tensor2d(xs, shape, 'float32');
}

/** Inputs of a `chain.<kind>` kernel on the host backends: core's {@link ChainKernelInputs} (with `startStep`). */
export type HostChainKernelInputs = ChainKernelInputs & {
  /** @deprecated the old name of `startStep` (read when `startStep` is absent). */
  readonly firstStep?: number;
};

/** `{ startStep }` from inputs that give `startStep` or (deprecated) `firstStep`, or `{}` when neither. */
function startStepOf(inputs: { startStep?: number; firstStep?: number }): { startStep?: number } {
  const s = inputs.startStep ?? inputs.firstStep;
  return s === undefined ? {} : { startStep: s };
}

/**
 * The `chain.<kind>` kernel on the host backends, for energies of `kind`. On `wasm`, an MLP whose matrix
 * products cannot use WebAssembly SIMD (see `mlpUsesSimd`) is declined with `NOT_IMPLEMENTED` (the sampler then
 * uses its step loop on tfjs-wasm's faster matMul).
 */
export function makeHostChainKernel(
  kind: string,
  backend = 'cpu',
): (inputs: HostChainKernelInputs) => tf.Tensor2D {
  return (inputs) => {
    const params = inputs?.params as Readonly<Record<string, unknown>> | undefined;
    if (kind === MLP_KIND && backend !== 'cpu' && !mlpUsesSimd(params ?? {})) {
      throw new EbmError(
        'NOT_IMPLEMENTED',
        `chain.mlp on ${backend} needs hidden widths that are multiples of 4.`,
        {
          argument: 'params.sizes',
          value: params?.sizes,
          fix: 'use the sampler step loop (samplers do this automatically).',
        },
      );
    }
    if (inputs === null || typeof inputs !== 'object') {
      throw new EbmError('INVALID_PARAM', `chain.${kind} needs an inputs object.`, {
        argument: 'inputs',
        value: inputs,
        fix: 'pass { method, x0, nSteps, key, params, settings }.',
      });
    }
    const [B, D] = assertRank2(inputs.x0, 'x0');
    const spec = {
      kind,
      params: hostParamsSync(inputs.params),
      method: inputs.method,
      settings: inputs.settings,
      nSteps: inputs.nSteps,
      key: inputs.key,
      ...startStepOf(inputs),
      ...(inputs.noiseScales === undefined ? {} : { noiseScales: inputs.noiseScales }),
    };
    const x = readHost(inputs.x0, 'x0');
    runChainHost(spec, x, D, 0, B);
    return tf.tensor2d(x, [B, D], 'float32');
  };
}

function traceInt(name: string, v: unknown, min: number, dflt: number): number {
  const x = v === undefined ? dflt : v;
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min) {
    throw new EbmError('INVALID_PARAM', `${name} must be an integer >= ${min}.`, {
      argument: name,
      value: v,
      fix: `pass an integer >= ${min}.`,
    });
  }
  return x;
}

/**
 * The traced whole-chain kernel `chainTrace.<kind>` on the host backends (see core's `ChainTraceKernelInputs` /
 * `ChainTraceKernelOutput`): the fused host chain run in segments between kept steps (segments draw the same
 * stream as one call, so the final states equal `chain.<kind>`'s), recording at each kept step what the
 * samplers' step loop records — `tf.moments` of x over chains, the chain mean of E(x) (host energy,
 * float32-faithful) and, for MALA/HMC, the chain means of the step's 0/1 decision and of min(1, α) — and the kept
 * positions. On cpu the records equal the step loop's.
 */
export function makeHostChainTraceKernel(
  kind: string,
  backend = 'cpu',
): (inputs: ChainTraceKernelInputs & { firstStep?: number }) => ChainTraceKernelOutput {
  const chain = makeHostChainKernel(kind, backend);
  return (inputs) => {
    // The chain kernel's checks (inputs, NOT_IMPLEMENTED for an MLP without SIMD on wasm) on a 0-step run.
    chain(
      inputs === null || typeof inputs !== 'object'
        ? inputs
        : { ...inputs, nSteps: 0, noiseScales: undefined },
    ).dispose();
    const [B, D] = assertRank2(inputs.x0, 'x0');
    const burnIn = traceInt('burnIn', inputs.burnIn, 0, 0);
    const thin = traceInt('thin', inputs.thin, 1, 1);
    const wantStats = inputs.diagnostics ?? true;
    const wantX = inputs.trajectory ?? false;
    const params = hostParamsSync(inputs.params);
    const spec = {
      kind,
      params,
      method: inputs.method,
      settings: inputs.settings,
      nSteps: inputs.nSteps,
      key: inputs.key,
      ...startStepOf(inputs),
      ...(inputs.noiseScales === undefined ? {} : { noiseScales: inputs.noiseScales }),
    };
    const c = parseChainSpec(spec, D);
    const mh = c.method !== 'langevin';
    const nKept = c.nSteps > burnIn ? Math.floor((c.nSteps - burnIn) / thin) : 0;
    const x = readHost(inputs.x0, 'x0');
    let done = 0;
    const advance = (n: number, lastProb?: Float64Array): AcceptCounts => {
      const acc = runParsedChain({ ...c, startStep: c.startStep + done, nSteps: n }, x, D, 0, B, 0, lastProb);
      done += n;
      return acc;
    };
    const kept: tf.Tensor2D[] = [];
    const cols: Record<string, tf.Tensor[]> = {
      mean: [],
      var: [],
      energy: [],
      acceptanceRate: [],
      acceptProb: [],
    };
    const e = new Float32Array(B);
    const prob = new Float64Array(B);
    try {
      advance(burnIn);
      for (let k = 0; k < nKept; k++) {
        advance(thin - 1);
        const acc = advance(1, mh ? prob : undefined);
        const xk = tf.tensor2d(x.slice(), [B, D], 'float32'); // a copy: tfjs may keep the array, x moves on
        if (wantX) kept.push(xk);
        if (wantStats) {
          c.energy.energy(x, 0, e, 0, B, D);
          tf.tidy(() => {
            const { mean, variance } = tf.moments(xk, 0);
            cols.mean!.push(tf.keep(mean));
            cols.var!.push(tf.keep(tf.clipByValue(variance, 1e-10, 1e10)));
            cols.energy!.push(tf.keep(tf.mean(tf.tensor1d(e, 'float32'))));
            if (mh) {
              cols.acceptanceRate!.push(tf.keep(tf.mean(tf.tensor1d(Float32Array.from(acc!), 'float32'))));
              cols.acceptProb!.push(tf.keep(tf.mean(tf.tensor1d(Float32Array.from(prob), 'float32'))));
            }
          });
        }
        if (!wantX) xk.dispose();
      }
      advance(c.nSteps - done);
      const out: { -readonly [K in keyof ChainTraceKernelOutput]: ChainTraceKernelOutput[K] } = {
        x: tf.tensor2d(x, [B, D], 'float32'),
        nKept,
      };
      if (wantStats && nKept > 0) {
        out.mean = tf.stack(cols.mean!, 0) as tf.Tensor2D;
        out.var = tf.stack(cols.var!, 0) as tf.Tensor2D;
        out.energy = tf.stack(cols.energy!, 0) as tf.Tensor1D;
        if (mh) {
          out.acceptanceRate = tf.stack(cols.acceptanceRate!, 0) as tf.Tensor1D;
          out.acceptProb = tf.stack(cols.acceptProb!, 0) as tf.Tensor1D;
        }
      }
      if (wantX && nKept > 0) out.trajectory = tf.stack(kept, 1) as tf.Tensor3D;
      return out;
    } finally {
      tf.dispose([...kept, ...Object.values(cols).flat()]);
    }
  };
}

/** Kinds with a fused CPU `chain.<kind>` kernel. */
export const CPU_CHAIN_KINDS: readonly string[] = Object.keys(HOST_ENERGY_KINDS);

/** Names of the kernels {@link registerCpuKernels} registers (for each of {@link HOST_BACKENDS}). */
export const CPU_KERNEL_NAMES: readonly string[] = [
  ...CPU_CHAIN_KINDS.map(chainKernelName),
  ...CPU_CHAIN_KINDS.map(chainTraceKernelName),
];

interface RegistrationState {
  unregister: () => void;
}
const STATE_SYMBOL = Symbol.for('@ebm/core/cpu-kernels/v1');

/**
 * Registers core's fused CPU kernels for `cpu` and `wasm` (see the module docs). Idempotent: a second call
 * returns the same remover. Called when `@ebm/core` loads.
 * @returns a function that removes these registrations (a later call registers them again).
 */
export function registerCpuKernels(): () => void {
  const g = globalThis as unknown as Record<symbol, RegistrationState | undefined>;
  const existing = g[STATE_SYMBOL];
  if (existing !== undefined) return existing.unregister;
  const opts = { override: true };
  const removers: (() => void)[] = [];
  for (const backend of HOST_BACKENDS) {
    for (const kind of CPU_CHAIN_KINDS) {
      removers.push(
        registerKernelImpl(
          chainKernelName(kind),
          backend,
          makeHostChainKernel(kind, backend) as (inputs: unknown) => unknown,
          opts,
        ),
        registerKernelImpl(
          chainTraceKernelName(kind),
          backend,
          makeHostChainTraceKernel(kind, backend) as (inputs: unknown) => unknown,
          opts,
        ),
      );
    }
  }
  const state: RegistrationState = {
    unregister: () => {
      if (g[STATE_SYMBOL] !== state) return;
      for (const remove of removers) remove();
      g[STATE_SYMBOL] = undefined;
    },
  };
  g[STATE_SYMBOL] = state;
  return state.unregister;
}
