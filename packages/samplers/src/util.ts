import {
  assertKnownOptions,
  type ChainMethod,
  type ChainMethodSettings,
  type ChainTraceKernelOutput,
  chainKernelName,
  chainTraceKernelName,
  EbmError,
  type EnergyFunction,
  getKernelImpl,
  isEbmError,
  kernelSource,
  type RngKey,
  runKernel,
  type WholeChainRequest,
} from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';

/** A mass: a positive number (scalar mass) or one positive number per dimension (diagonal mass). */
export type Mass = number | readonly number[] | Float32Array;

/** Parsed mass: the inverse mass as a number, or as host numbers for a diagonal. */
export interface ParsedMass {
  /** 1/m as a number (scalar mass) or per dimension. */
  readonly invMass: number | Float32Array;
}

/** Validates a mass option and returns its inverse. */
export function parseMass(name: string, mass: Mass | undefined, dim: number | undefined): ParsedMass {
  if (mass === undefined) return { invMass: 1 };
  if (typeof mass === 'number') {
    if (!Number.isFinite(mass) || !(mass > 0)) {
      throw new EbmError('INVALID_PARAM', `${name} must be a positive finite number or array.`, {
        argument: name,
        value: mass,
        fix: `pass e.g. ${name}: 1 or ${name}: [1, 2] (one positive entry per dimension).`,
      });
    }
    return { invMass: 1 / mass };
  }
  if (!(Array.isArray(mass) || mass instanceof Float32Array) || mass.length === 0) {
    throw new EbmError('INVALID_PARAM', `${name} must be a positive number or an array of them.`, {
      argument: name,
      value: mass,
      fix: `pass e.g. ${name}: 1 or ${name}: [1, 2].`,
    });
  }
  if (dim !== undefined && mass.length !== dim) {
    throw new EbmError('SHAPE_MISMATCH', `${name} must have one entry per dimension (${dim}).`, {
      argument: name,
      value: mass.length,
      fix: `pass ${dim} positive numbers.`,
    });
  }
  const inv = new Float32Array(mass.length);
  for (let i = 0; i < mass.length; i++) {
    const m = mass[i]!;
    if (!Number.isFinite(m) || !(m > 0)) {
      throw new EbmError('INVALID_PARAM', `${name}[${i}] must be a positive finite number.`, {
        argument: name,
        value: m,
        fix: 'every diagonal mass entry must be > 0.',
      });
    }
    inv[i] = 1 / m;
  }
  return { invMass: inv };
}

/** Checks the inverse mass against the state's dimension. */
export function checkMassDim(name: string, invMass: number | Float32Array, d: number): void {
  if (typeof invMass !== 'number' && invMass.length !== d) {
    throw new EbmError('SHAPE_MISMATCH', `${name} has ${invMass.length} entries but the states have ${d}.`, {
      argument: name,
      value: invMass.length,
      fix: `pass ${d} mass entries, or a scalar mass.`,
    });
  }
}

/** Inverse mass as a number or a `[D]` tensor (caller disposes the tensor). */
export function invMassTensor(invMass: number | Float32Array): number | tf.Tensor1D {
  return typeof invMass === 'number' ? invMass : tf.tensor1d(invMass);
}

/** Validates an optional clamp range `[min, max]` with min < max. */
export function parseClamp(clamp: unknown): readonly [number, number] | undefined {
  if (clamp === undefined) return undefined;
  if (
    !Array.isArray(clamp) ||
    clamp.length !== 2 ||
    typeof clamp[0] !== 'number' ||
    typeof clamp[1] !== 'number' ||
    Number.isNaN(clamp[0]) ||
    Number.isNaN(clamp[1]) ||
    !(clamp[0] < clamp[1])
  ) {
    throw new EbmError('INVALID_PARAM', 'clamp must be [min, max] with min < max.', {
      argument: 'clamp',
      value: clamp,
      fix: 'pass e.g. clamp: [-5, 5], or leave it out.',
    });
  }
  return [clamp[0], clamp[1]] as const;
}

/**
 * Validates an option bag: undefined or a plain object whose names are all in `known` (an unknown name such as
 * TorchEBM's `step_size` is an `INVALID_PARAM` that suggests the right one, see core's `assertKnownOptions`).
 */
export function parseOptions<T extends object>(
  name: string,
  options: T | undefined,
  known: readonly string[],
): T {
  return assertKnownOptions(name, options, known);
}

/**
 * Runs the whole chain through the backend's `chain.<kind>` kernel (the one name of the fused whole-chain
 * path, see `chainKernelName`) when the active backend registered one (never the composite: there is none).
 * `key` is the run key and `startStep` the state's step, so the chain draws exactly the step loop's stream (core's
 * `ChainKernelInputs.startStep`). `settings` are typed per method by core's `ChainMethodSettings`. Returns `undefined` when unavailable or
 * when the kernel reports `NOT_IMPLEMENTED` for this method.
 */
export function tryWholeChain<M extends ChainMethod>(
  energy: EnergyFunction,
  method: M,
  x0: tf.Tensor2D,
  nSteps: number,
  key: RngKey,
  startStep: number,
  settings: ChainMethodSettings[M],
  noiseScales?: Float32Array,
): tf.Tensor2D | undefined {
  const hint = energy.kernelHint;
  if (hint === undefined || hint === null || typeof hint.kind !== 'string') return undefined;
  const name = chainKernelName(hint.kind) as `chain.${string}`;
  if (kernelSource(name) !== 'backend') return undefined;
  try {
    // The kind is only known at run time: the inputs are checked against the union of every method.
    const inputs = {
      method,
      x0,
      nSteps,
      key,
      startStep,
      params: hint.params,
      settings,
      ...(noiseScales === undefined ? {} : { noiseScales }),
    } as {
      [m in ChainMethod]: { method: m; settings: ChainMethodSettings[m] };
    }[ChainMethod] & {
      x0: tf.Tensor2D;
      nSteps: number;
      key: RngKey;
      startStep: number;
      params: typeof hint.params;
    };
    return runKernel(name, inputs);
  } catch (e) {
    if (isEbmError(e, 'NOT_IMPLEMENTED')) return undefined;
    throw e;
  }
}

/**
 * {@link tryWholeChain} for a run that draws its own x0: runs `chain.<kind>` with core's `ChainFromNormalInputs`
 * (x0 ~ N(0, I) of `shape` from `x0Key`, `randomNormal`'s stream, drawn in the kernel's own dispatch; startStep
 * 0) when the active backend's kernel function declares `drawsX0: true`. Returns `undefined` when it does not
 * (the loop then draws x0 and calls {@link tryWholeChain}) or reports `NOT_IMPLEMENTED`.
 */
export function tryWholeChainFromNormal<M extends ChainMethod>(
  energy: EnergyFunction,
  method: M,
  shape: readonly [number, number],
  x0Key: RngKey,
  nSteps: number,
  key: RngKey,
  settings: ChainMethodSettings[M],
): tf.Tensor2D | undefined {
  const hint = energy.kernelHint;
  if (hint === undefined || hint === null || typeof hint.kind !== 'string') return undefined;
  const name = chainKernelName(hint.kind) as `chain.${string}`;
  if (kernelSource(name) !== 'backend') return undefined;
  const impl = getKernelImpl(name) as { drawsX0?: unknown } | undefined;
  if (impl?.drawsX0 !== true) return undefined;
  try {
    const inputs = {
      method,
      x0Normal: { key: x0Key, shape: [shape[0], shape[1]] as const },
      nSteps,
      key,
      startStep: 0,
      params: hint.params,
      settings,
    };
    return runKernel(name, inputs as never) as tf.Tensor2D;
  } catch (e) {
    if (isEbmError(e, 'NOT_IMPLEMENTED')) return undefined;
    throw e;
  }
}

/** What {@link tryTracedChain} returns: final states and the records a {@link WholeChainRequest} asked for. */
export interface TracedChain {
  /** Final states `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** The step loop's diagnostics series (mean, var, energy; MALA/HMC also isAccepted, acceptanceRate, acceptProb). */
  readonly diagnostics?: Record<string, tf.Tensor>;
  /** Kept positions `[B, nKept, D]`. */
  readonly trajectory?: tf.Tensor;
}

/**
 * Runs the whole chain through the backend's traced kernel `chainTrace.<kind>` (see core's
 * `ChainTraceKernelInputs`) when the active backend registered one, and maps its output onto the step loop's
 * records: per kept step `mean`, `var`, `energy` and, for MALA/HMC, `isAccepted` (fraction of chains that
 * accepted: the kernel's `acceptanceRate`), `acceptanceRate` (chain mean of min(1, α): the kernel's
 * `acceptProb`) and its deprecated alias `acceptProb`; `trajectory` `[B, nKept, D]`. Returns `undefined` when no
 * traced kernel runs this (the sampler then uses its step loop). Keys and stream as {@link tryWholeChain}.
 */
export function tryTracedChain<M extends ChainMethod>(
  energy: EnergyFunction,
  method: M,
  x0: tf.Tensor2D,
  nSteps: number,
  key: RngKey,
  startStep: number,
  settings: ChainMethodSettings[M],
  request: WholeChainRequest,
  noiseScales?: Float32Array,
): TracedChain | undefined {
  const hint = energy.kernelHint;
  if (hint === undefined || hint === null || typeof hint.kind !== 'string') return undefined;
  const name = chainTraceKernelName(hint.kind) as `chainTrace.${string}`;
  if (kernelSource(name) !== 'backend') return undefined;
  let out: ChainTraceKernelOutput;
  try {
    out = runKernel(name, {
      method,
      x0,
      nSteps,
      key,
      startStep,
      params: hint.params,
      settings,
      burnIn: request.burnIn,
      thin: request.thin,
      diagnostics: request.diagnostics,
      trajectory: request.trajectory,
      ...(noiseScales === undefined ? {} : { noiseScales }),
    } as never);
  } catch (e) {
    if (isEbmError(e, 'NOT_IMPLEMENTED')) return undefined;
    throw e;
  }
  const mh = method !== 'langevin';
  const all: (tf.Tensor | undefined)[] = [
    out.x,
    out.mean,
    out.var,
    out.energy,
    out.acceptanceRate,
    out.acceptProb,
    out.trajectory,
  ];
  const complete =
    out.x instanceof tf.Tensor &&
    (!request.trajectory || out.trajectory !== undefined) &&
    (!request.diagnostics ||
      (out.mean !== undefined &&
        out.var !== undefined &&
        out.energy !== undefined &&
        (!mh || (out.acceptanceRate !== undefined && out.acceptProb !== undefined))));
  if (!complete) {
    tf.dispose(all.filter((t): t is tf.Tensor => t instanceof tf.Tensor));
    return undefined;
  }
  const keep = new Set<tf.Tensor>([out.x]);
  let diagnostics: Record<string, tf.Tensor> | undefined;
  if (request.diagnostics) {
    diagnostics = { mean: out.mean!, var: out.var!, energy: out.energy! };
    if (mh) {
      diagnostics.isAccepted = out.acceptanceRate!;
      diagnostics.acceptanceRate = out.acceptProb!;
      diagnostics.acceptProb = tf.clone(out.acceptProb!);
    }
    for (const t of Object.values(diagnostics)) keep.add(t);
  }
  if (request.trajectory) keep.add(out.trajectory!);
  tf.dispose(all.filter((t): t is tf.Tensor => t instanceof tf.Tensor && !keep.has(t)));
  return {
    x: out.x,
    ...(diagnostics === undefined ? {} : { diagnostics }),
    ...(request.trajectory ? { trajectory: out.trajectory! } : {}),
  };
}

/** `a · c` that skips the multiply when `c === 1`. */
export function scale(a: tf.Tensor, c: number | tf.Tensor): tf.Tensor {
  return typeof c === 'number' && c === 1 ? a : tf.mul(a, c);
}

/** Row-wise sum over the feature axis: `[N, D] → [N]`. */
export function rowSum(a: tf.Tensor): tf.Tensor1D {
  return tf.sum(a, 1) as tf.Tensor1D;
}

/** min(1, exp(logα)) with non-finite log-ratios mapped to 0. */
export function acceptProbability(logAccept: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const finite = tf.logicalNot(tf.logicalOr(tf.isNaN(logAccept), tf.isInf(logAccept)));
    const p = tf.exp(tf.minimum(logAccept, 0));
    // +Infinity (energy dropped to -inf) is rejected by metropolisAccept too, so report 0 there.
    return tf.where(finite, p, tf.zerosLike(p)) as tf.Tensor1D;
  });
}

/**
 * Step size and optional diagonal inverse mass of a sampler: what `withParams` takes and `params()` returns,
 * so window adaptation can tune any sampler that exposes a step size (and a mass).
 */
export interface SamplerParams {
  /** Step size > 0. */
  readonly stepSize: number;
  /** Inverse mass: a number or one entry per dimension (default: keep the sampler's own). */
  readonly invMass?: number | Float32Array;
}

/** Step info of a sampler that reports nothing per step (Langevin, gradient descent, Nesterov). */
export type EmptyInfo = Readonly<Record<never, tf.Tensor>>;
