import { type ChainKernelInputs, EbmError, randomNormal } from '@ebm/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkKey, run, softwareAdapter, workgroupStorageLimit } from './backend.js';
import {
  type ChainMethod,
  rowChainProgram,
  separableLangevinProgram,
  statsWidth,
  stepKeysProgram,
  type TraceLayout,
  traceSizes,
} from './chain-programs.js';
import { WGSL_ENERGY_KINDS, wgslEnergy } from './energy-kinds.js';
import { type CoopShape, coopShape, forcedCoopShape, mlpLangevinProgram } from './mlp-coop.js';
import { type MlpLayout, mlpLayout } from './mlp-energy.js';
import {
  defaultTileShape,
  mlpTileLangevinProgram,
  mlpTransposedWeights,
  type TileShape,
  tileShapeFits,
  tileShapeFor,
} from './mlp-tile.js';

/**
 * Whole-chain kernels on WebGPU: `chain.<kind>` (final states) and `chainTrace.<kind>` (final states plus
 * kept-step statistics and thinned positions, all accumulated on the GPU) for every kind with a WGSL energy
 * (`energy-kinds.ts`) and the methods `'langevin'`, `'mala'` and `'hmc'`.
 *
 * Random stream: step t of a kernel call uses `foldIn(key, startStep + t)` (MH: `splitKey` of it into
 * [proposal key, accept key]), in core's counter layout — the keys a sampler's step loop uses for steps
 * `startStep, startStep + 1, …` when `key` is the run key. So a whole chain with `startStep` equal to the state's
 * step draws exactly the step loop's noise.
 * @module
 */

/**
 * Whole-chain kernels split runs into dispatches of at most this many steps, so that one dispatch stays short
 * enough for GPU watchdogs (browsers reset a device whose work runs for seconds).
 */
export const MAX_STEPS_PER_DISPATCH = 1000;

/** Separable kinds (∂ᵢE depends on xᵢ only) with a one-thread-per-4-coordinates Langevin program. */
interface SeparableKind {
  /** WGSL expression of the per-coordinate gradient in `x`, `c0`, `c1`. */
  readonly gradient: string;
  /** c0, c1 from the WGSL energy's packed params P. */
  readonly constants: (p: Float32Array) => [number, number];
}

/** The separable Langevin kinds and their per-coordinate gradients. */
export const SEPARABLE_CHAIN_KINDS: Readonly<Record<string, SeparableKind>> = {
  /** ∂ᵢE = 4h·xᵢ(xᵢ² − b²): c0 = 4h, c1 = b². */
  doubleWell: { gradient: '(c0 * x) * (x * x - c1)', constants: (p) => [4 * p[0]!, p[1]!] },
  /** ∂ᵢE = k·xᵢ: c0 = k. */
  harmonic: { gradient: 'c0 * x', constants: (p) => [p[0]!, 0] },
  /** ∂ᵢE = 2xᵢ + 2πa·sin(2πxᵢ): c0 = 2πa, c1 = 2π. */
  rastrigin: {
    gradient: '2.0 * x + c0 * sin(c1 * x)',
    constants: (p) => [2 * Math.PI * p[0]!, 2 * Math.PI],
  },
};

/** Every kind with whole-chain kernels on WebGPU. */
export const CHAIN_KINDS: readonly string[] = WGSL_ENERGY_KINDS;

/** Registry name of the traced whole-chain kernel: `chainTrace.<kind>`. */
export function chainTraceKernelName(kind: string): string {
  if (typeof kind !== 'string' || kind === '') {
    throw new EbmError('INVALID_PARAM', 'kind must be an energy kind name.', {
      argument: 'kind',
      value: kind,
      fix: `pass one of: ${CHAIN_KINDS.join(', ')}.`,
    });
  }
  return `chainTrace.${kind}`;
}

/**
 * What `chain.<kind>` on WebGPU takes besides core's {@link ChainKernelInputs} (nothing now: `startStep` moved
 * to core's inputs; kept so that code naming this type keeps compiling).
 */
export interface WebGpuChainExtras {
  /**
   * The state's step index (default 0): step t (0-based) draws with `foldIn(key, startStep + t)`, the step
   * loop's key for that step (see core's `ChainKernelInputs.startStep`).
   */
  readonly startStep?: number;
}

/** Inputs of `chain.<kind>` on WebGPU: core's {@link ChainKernelInputs} plus the first step index. */
export type WebGpuChainInputs<K extends string = string> = ChainKernelInputs<K> & WebGpuChainExtras;

/** What `chainTrace.<kind>` takes besides {@link WebGpuChainInputs}. */
export interface ChainTraceExtras extends WebGpuChainExtras {
  /** Steps at the start that are not kept (default 0). */
  readonly burnIn?: number;
  /** Keep step i (1-based) when i > burnIn and (i − burnIn) mod thin = 0 (default 1). */
  readonly thin?: number;
  /** Per kept step statistics (default true). */
  readonly diagnostics?: boolean;
  /** Kept positions (default false). */
  readonly trajectory?: boolean;
}

/** Inputs of `chainTrace.<kind>`. */
export type ChainTraceInputs<K extends string = string> = ChainKernelInputs<K> & ChainTraceExtras;

/** The inputs as the kernels read them (any method; validated at run time). */
interface LooseInputs extends ChainTraceExtras {
  readonly method: string;
  readonly x0: tf.Tensor2D;
  /** Core's `ChainFromNormalInputs` (chain.<kind> only): draw x0 in the kernel instead of reading `x0`. */
  readonly x0Normal?: unknown;
  readonly nSteps: number;
  readonly key: unknown;
  readonly params: Readonly<Record<string, unknown>>;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly noiseScales?: unknown;
}

/** Output of `chainTrace.<kind>` (every tensor new; the caller owns them). */
export interface ChainTraceOutput {
  /** Final states `[B, D]`. */
  readonly x: tf.Tensor2D;
  /** Number of kept steps: ⌊(nSteps − burnIn) / thin⌋. */
  readonly nKept: number;
  /** Per kept step, over chains: `mean [nKept, D]`, biased `var [nKept, D]` (clipped to [1e-10, 1e10]). */
  readonly mean?: tf.Tensor2D;
  readonly var?: tf.Tensor2D;
  /** Chain-mean energy per kept step `[nKept]`. */
  readonly energy?: tf.Tensor1D;
  /** MALA/HMC: chain mean of accepted (0/1) and of min(1, α), per kept step `[nKept]`. */
  readonly acceptanceRate?: tf.Tensor1D;
  readonly acceptProb?: tf.Tensor1D;
  /** Kept positions `[B, nKept, D]` (with `trajectory: true`). */
  readonly trajectory?: tf.Tensor3D;
}

function notImplemented(kind: string, what: string, value: unknown): never {
  throw new EbmError('NOT_IMPLEMENTED', `The WebGPU chain.${kind} kernel does not run ${what}.`, {
    argument: what.split(' ')[0] ?? what,
    value,
    fix: 'use the sampler step loop (samplers fall back to it automatically).',
  });
}

function intArg(name: string, v: unknown, min: number, dflt?: number): number {
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

function setting(
  settings: Readonly<Record<string, unknown>>,
  name: string,
  dflt: number,
  check: (v: number) => boolean,
  want: string,
): number {
  const v = settings?.[name] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
    throw new EbmError('INVALID_PARAM', `settings.${name} of a whole chain must be ${want}.`, {
      argument: `settings.${name}`,
      value: v,
      fix: `pass ${want}.`,
    });
  }
  return v;
}

interface Parsed {
  method: ChainMethod;
  settings: Readonly<Record<string, unknown>>;
  params: Readonly<Record<string, unknown>>;
  /** The initial states, or undefined when the kernel draws them (`x0Key`). */
  x0: tf.Tensor2D | undefined;
  /** Key of the x0 ~ N(0, I) draw (`randomNormal`'s stream) when `x0` is undefined. */
  x0Key: readonly [number, number] | undefined;
  b: number;
  d: number;
  nSteps: number;
  key: readonly [number, number];
  startStep: number;
  h: number;
  amp: number;
  /** Langevin with per-step scales: a_t = σ_t√(2h) of each step of the call (uploaded as input `S`). */
  amps?: Float32Array;
  invMass: number;
  nLeapfrog: number;
}

/** Validates core's `ChainFromNormalInputs.x0Normal`: `{ key, shape: [B, D] }`. */
function parseX0Normal(v: unknown): { key: readonly [number, number]; shape: [number, number] } {
  const o = v as { key?: unknown; shape?: unknown } | null;
  const shape = o?.shape;
  if (
    o === null ||
    typeof o !== 'object' ||
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    !shape.every((n) => Number.isSafeInteger(n) && n >= 0) ||
    shape[0] * shape[1] >= 2 ** 31
  ) {
    throw new EbmError('INVALID_PARAM', 'x0Normal must be { key, shape: [B, D] } (non-negative integers).', {
      argument: 'x0Normal',
      value: v,
      fix: 'pass { key: foldIn(runKey, n), shape: [nChains, dim] }, or pass x0.',
    });
  }
  return { key: checkKey(o.key), shape: [shape[0], shape[1]] };
}

function parse(kind: string, inputs: LooseInputs, allowNormal = false): Parsed {
  if (inputs === null || typeof inputs !== 'object') {
    throw new EbmError('INVALID_PARAM', 'A chain kernel needs an inputs object.', {
      argument: 'inputs',
      value: inputs,
      fix: 'pass { method, x0, nSteps, key, params, settings }.',
    });
  }
  const { method, x0, nSteps, key, settings } = inputs;
  if (method !== 'langevin' && method !== 'mala' && method !== 'hmc')
    notImplemented(kind, `method "${method}"`, method);
  const normal =
    allowNormal && x0 === undefined && inputs.x0Normal !== undefined
      ? parseX0Normal(inputs.x0Normal)
      : undefined;
  if (normal === undefined && (!(x0 instanceof tf.Tensor) || x0.rank !== 2 || x0.dtype !== 'float32')) {
    throw new EbmError('SHAPE_MISMATCH', 'x0 must be a float32 [B, D] tensor.', {
      argument: 'x0',
      value: x0 instanceof tf.Tensor ? { shape: x0.shape, dtype: x0.dtype } : typeof x0,
      fix: 'pass the chains as a 2-D float32 tensor, one row per chain.',
    });
  }
  const steps = intArg('nSteps', nSteps, 0);
  const k = checkKey(key);
  const startStep = intArg('startStep', inputs.startStep, 0, 0);
  const h = setting(settings, 'stepSize', Number.NaN, (v) => v > 0, 'a finite number > 0');
  let amp = 0;
  let invMass = 1;
  let nLeapfrog = 1;
  if (method === 'langevin') {
    const sigma = setting(settings, 'noiseScale', 1, (v) => v >= 0, 'a finite number >= 0');
    amp = sigma * Math.sqrt(2 * h);
  } else {
    const inv = settings?.invMass ?? 1;
    if (typeof inv !== 'number') notImplemented(kind, 'a diagonal mass', 'array');
    invMass = setting(settings, 'invMass', 1, (v) => v > 0, 'a finite number > 0');
    if (method === 'hmc') {
      nLeapfrog = intArg('settings.nLeapfrogSteps', settings?.nLeapfrogSteps, 1, 10);
    }
  }
  let amps: Float32Array | undefined;
  const scales = inputs.noiseScales;
  if (scales !== undefined) {
    if (method !== 'langevin') notImplemented(kind, `noiseScales with method "${method}"`, method);
    if (
      !(scales instanceof Float32Array) ||
      scales.length !== steps ||
      !scales.every((v) => Number.isFinite(v) && v >= 0)
    ) {
      throw new EbmError(
        'INVALID_PARAM',
        'noiseScales must be a Float32Array of nSteps finite numbers >= 0.',
        {
          argument: 'noiseScales',
          value:
            scales instanceof Float32Array
              ? `Float32Array(${scales.length}), nSteps ${steps}`
              : typeof scales,
          fix: 'pass one noise scale per step of the call, e.g. a TemperatureScheduler’s values.',
        },
      );
    }
    const root = Math.sqrt(2 * h);
    amps = scales.map((v) => v * root);
  }
  return {
    method,
    settings: settings ?? {},
    params: inputs.params,
    x0: normal === undefined ? x0 : undefined,
    x0Key: normal?.key,
    b: normal === undefined ? x0.shape[0] : normal.shape[0],
    d: normal === undefined ? x0.shape[1] : normal.shape[1],
    nSteps: steps,
    key: k,
    startStep,
    h,
    amp,
    ...(amps === undefined ? {} : { amps }),
    invMass,
    nLeapfrog,
  };
}

/** The step keys of a run, computed on the GPU: `[nSteps · (2 | 4)]` int32 (see `stepKeysProgram`). */
function stepKeys(
  key: readonly [number, number],
  startStep: number,
  nSteps: number,
  split: boolean,
): tf.Tensor {
  return run(stepKeysProgram(nSteps, split), [], 'int32', [
    { type: 'uint32', data: [key[0]] },
    { type: 'uint32', data: [key[1]] },
    { type: 'uint32', data: [startStep >>> 0] },
    { type: 'uint32', data: [Math.floor(startStep / 2 ** 32) >>> 0] },
    { type: 'int32', data: [nSteps] },
  ]);
}

/** Kept steps among global steps 1..i. */
function keptUpTo(i: number, burnIn: number, thin: number): number {
  return i > burnIn ? Math.floor((i - burnIn) / thin) : 0;
}

/**
 * The cooperative MLP program's variant when `settings.mlpVariant` is not given: 'auto' — the register-tiled
 * program (mlp-tile.ts) from {@link AUTO_TILE_MIN_CHAINS} chains (H200, 32→128→128→1 SiLU, 4096 chains × 100
 * steps: 3.45 ms with the tile 8x128x4x2c vs 14.1 ms for 'coop'), the cooperative one (mlp-coop.ts) below it (256
 * chains × 2 dims × 10 steps, CD-10's chain: 0.60 ms 'coop' vs ≥ 0.83 ms for every tile).
 */
let DEFAULT_MLP_VARIANT: string = 'auto';

/** Batch size from which 'auto' picks the register-tiled MLP program. */
const AUTO_TILE_MIN_CHAINS = 1024;

/** The tile 'auto' tries first ('tile:8x128x4x2c', the fastest of the H200 sweep at 4096 × 32, widths 128). */
const AUTO_TILE: TileShape = { c: 8, t: 128, rc: 4, ru: 2, contiguous: true };

/**
 * Internal (benchmarks; may change without notice): sets the MLP chain program's variant used when
 * `settings.mlpVariant` is not given (`'coop'`, `'tile'` or `'tile:<c>x<t>x<rc>x<ru>[c]'`, checked when a chain
 * runs) and returns the previous one.
 */
export function setDefaultMlpVariant(variant: string): string {
  if (typeof variant !== 'string' || !/^(auto|coop|tile|tile:\d+x\d+x\d+x\d+c?)$/.test(variant)) {
    throw new EbmError(
      'INVALID_PARAM',
      "The default MLP chain variant must be 'auto', 'coop', 'tile' or 'tile:<c>x<t>x<rc>x<ru>[c]'.",
      { argument: 'variant', value: variant, fix: "pass e.g. 'auto' (the default) or 'tile:8x128x4x2c'." },
    );
  }
  const prev = DEFAULT_MLP_VARIANT;
  DEFAULT_MLP_VARIANT = variant;
  return prev;
}

/** 'auto''s tile: {@link AUTO_TILE} where it fits the layout, else the fitted default (undefined: 'coop'). */
function autoTileShape(layout: MlpLayout, b: number, limitBytes: number): TileShape | undefined {
  return tileShapeFits(layout, AUTO_TILE, limitBytes) ? AUTO_TILE : defaultTileShape(layout, b, limitBytes);
}

/**
 * Runs the chain in dispatches of ≤ MAX_STEPS_PER_DISPATCH steps; `each` receives every dispatch's flat output
 * (and must dispose it or keep it) and returns the next states.
 */
function runChain(
  kind: string,
  p: Parsed,
  trace: { burnIn: number; thin: number; stats: boolean; positions: boolean } | undefined,
  onTrace: (out: tf.Tensor, layout: TraceLayout) => tf.Tensor2D,
): tf.Tensor2D {
  const { method, x0, b, d, nSteps } = p;
  const mh = method !== 'langevin';
  const sep = SEPARABLE_CHAIN_KINDS[kind];
  // Per-step noise scales run in the row (or cooperative MLP) program, which read them from input S.
  const perStep = p.amps !== undefined;
  const useSeparable = method === 'langevin' && sep !== undefined && trace === undefined && !perStep;
  const e = wgslEnergy(kind, p.params, d);
  // MLP Langevin without trace: the cooperative program (a workgroup per C chains), when its memory fits.
  const mlp =
    kind === 'mlp' && method === 'langevin' && trace === undefined ? mlpLayout(p.params, d) : undefined;
  // settings.mlpCooperative: 1 forces it, 0 turns it off; by default it runs on hardware adapters only (its
  // shader takes lavapipe's LLVM up to a minute to compile).
  const force = p.settings.mlpCooperative;
  const useCoop = force === undefined ? !softwareAdapter() : force === 1;
  // settings.mlpCoopShape ('<c>x<t>', e.g. '4x128') forces the cooperative program's shape (benchmarks); by
  // default coopShape fits it to the batch.
  const forcedShape = p.settings.mlpCoopShape;
  let coop: CoopShape | undefined;
  if (mlp !== undefined && useCoop) {
    coop =
      forcedShape === undefined
        ? coopShape(mlp, b, d, workgroupStorageLimit())
        : forcedCoopShape(mlp, d, forcedShape, workgroupStorageLimit());
  }
  // settings.mlpVariant picks the cooperative program's variant: 'coop' (mlp-coop.ts) or the register-tiled
  // 'tile' / 'tile:<c>x<t>x<rc>x<ru>[c]' (mlp-tile.ts; 'tile' falls back to 'coop' when no tile fits). A forced
  // mlpCoopShape means 'coop'; else DEFAULT_MLP_VARIANT.
  const variant = p.settings.mlpVariant ?? (forcedShape !== undefined ? 'coop' : DEFAULT_MLP_VARIANT);
  let tile: TileShape | undefined;
  if (mlp !== undefined && useCoop && variant === 'auto') {
    if (b >= AUTO_TILE_MIN_CHAINS) tile = autoTileShape(mlp, b, workgroupStorageLimit());
  } else if (mlp !== undefined && useCoop && variant !== 'coop') {
    if (typeof variant !== 'string' || !variant.startsWith('tile')) {
      throw new EbmError(
        'INVALID_PARAM',
        "settings.mlpVariant must be 'auto', 'coop', 'tile' or 'tile:<c>x<t>x<rc>x<ru>[c]'.",
        {
          argument: 'settings.mlpVariant',
          value: variant,
          fix: "pass 'auto' (the default), 'coop', 'tile' or e.g. 'tile:16x128x4x4'.",
        },
      );
    }
    tile = tileShapeFor(mlp, b, variant, workgroupStorageLimit());
  }
  return tf.tidy(() => {
    // The separable program computes its own step keys (one dispatch per ≤ 1000 steps, nothing else).
    const keys = useSeparable ? undefined : stepKeys(p.key, p.startStep, nSteps, mh);
    // The separable program takes its constants as uniforms: no params upload for it.
    const params = useSeparable
      ? undefined
      : typeof e.params === 'function'
        ? e.params()
        : tf.tensor1d(e.params, 'float32');
    const amps = perStep ? tf.tensor1d(p.amps!, 'float32') : undefined;
    const extra = amps === undefined ? [] : [amps];
    // x0 drawn by the kernel: in the first dispatch of the separable program, else with randomNormal here.
    let x: tf.Tensor2D | undefined =
      x0 ?? (useSeparable ? undefined : (randomNormal(p.x0Key!, [b, d]) as tf.Tensor2D));
    let qT: tf.Tensor1D | undefined;
    for (let offset = 0; offset < nSteps; offset += MAX_STEPS_PER_DISPATCH) {
      const steps = Math.min(MAX_STEPS_PER_DISPATCH, nSteps - offset);
      if (mlp !== undefined && tile !== undefined) {
        qT ??= mlpTransposedWeights(mlp, params as tf.Tensor1D);
        x = run(
          mlpTileLangevinProgram(mlp, b, d, tile, perStep),
          [x!, keys!, params!, qT, ...extra],
          'float32',
          [
            { type: 'int32', data: [b] },
            { type: 'int32', data: [offset] },
            { type: 'int32', data: [steps] },
            { type: 'float32', data: [p.h] },
            { type: 'float32', data: [p.amp] },
          ],
        ) as tf.Tensor2D;
        continue;
      }
      if (mlp !== undefined && coop !== undefined) {
        x = run(mlpLangevinProgram(mlp, b, d, coop, perStep), [x!, keys!, params!, ...extra], 'float32', [
          { type: 'int32', data: [b] },
          { type: 'int32', data: [offset] },
          { type: 'int32', data: [steps] },
          { type: 'float32', data: [p.h] },
          { type: 'float32', data: [p.amp] },
        ]) as tf.Tensor2D;
        continue;
      }
      if (useSeparable) {
        const [c0, c1] = sep.constants(e.params as Float32Array);
        const start = p.startStep + offset;
        const draw = x === undefined;
        const program = separableLangevinProgram(kind, sep.gradient, [b, d], MAX_STEPS_PER_DISPATCH, draw);
        x = run(program, x === undefined ? [] : [x], 'float32', [
          { type: 'uint32', data: [p.key[0]] },
          { type: 'uint32', data: [p.key[1]] },
          { type: 'uint32', data: [start >>> 0] },
          { type: 'uint32', data: [Math.floor(start / 2 ** 32) >>> 0] },
          { type: 'int32', data: [steps] },
          { type: 'float32', data: [p.h] },
          { type: 'float32', data: [p.amp] },
          { type: 'float32', data: [c0] },
          { type: 'float32', data: [c1] },
          ...(draw
            ? [
                { type: 'uint32' as const, data: [p.x0Key![0]] },
                { type: 'uint32' as const, data: [p.x0Key![1]] },
              ]
            : []),
        ]) as tf.Tensor2D;
        continue;
      }
      const keptBase = trace === undefined ? 0 : keptUpTo(offset, trace.burnIn, trace.thin);
      const nKept = trace === undefined ? 0 : keptUpTo(offset + steps, trace.burnIn, trace.thin) - keptBase;
      const layout: TraceLayout | undefined =
        trace === undefined || nKept === 0
          ? undefined
          : { nKept, stats: trace.stats, positions: trace.positions };
      const program = rowChainProgram(method, e, b, d, layout, perStep);
      const out = run(program, [x!, keys!, params!, ...extra], 'float32', [
        { type: 'int32', data: [b] },
        { type: 'int32', data: [offset] },
        { type: 'int32', data: [steps] },
        { type: 'float32', data: [p.h] },
        { type: 'float32', data: [p.amp] },
        ...(mh
          ? [
              { type: 'float32' as const, data: [p.invMass] },
              { type: 'int32' as const, data: [p.nLeapfrog] },
            ]
          : []),
        { type: 'int32', data: [trace?.burnIn ?? 0] },
        { type: 'int32', data: [trace?.thin ?? 1] },
        { type: 'int32', data: [keptBase] },
        { type: 'int32', data: [nKept] },
      ]);
      x = layout === undefined ? (out as tf.Tensor2D) : onTrace(out, layout);
    }
    return x === x0 ? tf.clone(x0!) : x!;
  });
}

/**
 * `chain.<kind>` on WebGPU: `nSteps` Langevin (`settings: { stepSize, noiseScale }`, or per-step scales
 * `noiseScales` σ_t: x ← x − h∇E + σ_t√(2h)ξ_t, in the row or cooperative MLP program), MALA
 * (`{ stepSize, invMass }`) or HMC (`{ stepSize, invMass, nLeapfrogSteps }`) steps of the kind's WGSL energy in
 * one dispatch per ≤ {@link MAX_STEPS_PER_DISPATCH} steps, plus one dispatch for the step keys (separable
 * Langevin computes its keys in the chain program: no key dispatch). Separable kinds run Langevin one thread per
 * 4 coordinates, everything else one thread per chain. Other methods and diagonal
 * masses throw `NOT_IMPLEMENTED` (samplers then use their step loop).
 */
export function makeChainKernel(
  kind: string,
): ((inputs: WebGpuChainInputs) => tf.Tensor2D) & { readonly drawsX0: true } {
  const fn = makeChainKernelLoose(kind);
  // drawsX0: samplers may pass core's ChainFromNormalInputs (x0Normal instead of x0) to this function.
  return Object.assign((inputs: WebGpuChainInputs) => fn(inputs as unknown as LooseInputs), {
    drawsX0: true as const,
  });
}

function makeChainKernelLoose(kind: string): (inputs: LooseInputs) => tf.Tensor2D {
  if (!CHAIN_KINDS.includes(kind)) notImplemented(kind, 'this energy kind', kind);
  return (inputs) => {
    const p = parse(kind, inputs, true);
    wgslEnergy(kind, p.params, p.d); // validates the params before anything runs
    if (p.x0 === undefined && (p.nSteps === 0 || p.b * p.d === 0))
      return randomNormal(p.x0Key!, [p.b, p.d]) as tf.Tensor2D;
    if (p.x0 !== undefined && (p.nSteps === 0 || p.x0.size === 0)) return tf.clone(p.x0);
    return runChain(kind, p, undefined, () => {
      throw new Error('unreachable: no trace requested');
    });
  };
}

/**
 * `chainTrace.<kind>` on WebGPU: the whole chain of `chain.<kind>` (one thread per chain, for every kind) that
 * also returns, per kept step, the chain mean and biased variance of x, the mean energy and (MALA/HMC) the mean
 * acceptance and accept probability, reduced per workgroup in the kernel and across workgroups with a few
 * tensor ops at the end, and optionally the kept positions `[B, nKept, D]`. Nothing is read back.
 */
export function makeChainTraceKernel(kind: string): (inputs: ChainTraceInputs) => ChainTraceOutput {
  const fn = makeChainTraceKernelLoose(kind);
  return (inputs) => fn(inputs as unknown as LooseInputs);
}

function makeChainTraceKernelLoose(kind: string): (inputs: LooseInputs) => ChainTraceOutput {
  if (!CHAIN_KINDS.includes(kind)) notImplemented(kind, 'this energy kind', kind);
  return (inputs) => {
    const p = parse(kind, inputs);
    wgslEnergy(kind, p.params, p.d);
    const burnIn = intArg('burnIn', inputs.burnIn, 0, 0);
    const thin = intArg('thin', inputs.thin, 1, 1);
    const stats = inputs.diagnostics ?? true;
    const positions = inputs.trajectory ?? false;
    const nKept = keptUpTo(p.nSteps, burnIn, thin);
    const mh = p.method !== 'langevin';
    const statSegs: tf.Tensor3D[] = [];
    const posSegs: tf.Tensor3D[] = [];
    const { b, d } = p;
    let x: tf.Tensor2D;
    try {
      x =
        p.nSteps === 0 || p.x0!.size === 0
          ? tf.clone(p.x0!)
          : runChain(kind, p, { burnIn, thin, stats, positions }, (out, layout) => {
              const s = traceSizes(b, d, layout);
              const next = tf.reshape(tf.slice(out, [0], [s.x]), [b, d]) as tf.Tensor2D;
              if (layout.positions) {
                posSegs.push(tf.keep(tf.reshape(tf.slice(out, [s.x], [s.positions]), [b, layout.nKept, d])));
              }
              if (layout.stats) {
                const st = tf.slice(out, [s.x + s.positions], [s.stats]);
                statSegs.push(tf.keep(tf.reshape(st, [layout.nKept, s.groups, statsWidth(d)])));
              }
              return next;
            });
    } catch (e) {
      tf.dispose([...statSegs, ...posSegs]);
      throw e;
    }
    const result: { -readonly [K in keyof ChainTraceOutput]: ChainTraceOutput[K] } = { x, nKept };
    tf.tidy(() => {
      if (stats && statSegs.length > 0) {
        const st = statSegs.length === 1 ? statSegs[0]! : tf.concat(statSegs, 0); // [nKept, G, S]
        const n = tf.slice(st, [0, 0, 2 * d + 3], [-1, -1, 1]); // [nKept, G, 1]
        const means = tf.slice(st, [0, 0, 0], [-1, -1, d]);
        const m2 = tf.slice(st, [0, 0, d], [-1, -1, d]);
        const sums = tf.sum(tf.slice(st, [0, 0, 2 * d], [-1, -1, 3]), 1); // [nKept, 3]
        const mean = tf.div(tf.sum(tf.mul(means, n), 1), b); // [nKept, D]
        // Chan et al.: M2 = Σ_w M2_w + Σ_w n_w (mean_w − mean)².
        const dev = tf.sub(means, tf.expandDims(mean, 1));
        const m2All = tf.add(tf.sum(m2, 1), tf.sum(tf.mul(n, tf.square(dev)), 1));
        result.mean = tf.keep(mean) as tf.Tensor2D;
        result.var = tf.keep(tf.clipByValue(tf.div(m2All, b), 1e-10, 1e10)) as tf.Tensor2D;
        const perStep = tf.div(sums, b); // [nKept, 3]
        result.energy = tf.keep(tf.reshape(tf.slice(perStep, [0, 0], [-1, 1]), [-1])) as tf.Tensor1D;
        if (mh) {
          result.acceptanceRate = tf.keep(
            tf.reshape(tf.slice(perStep, [0, 1], [-1, 1]), [-1]),
          ) as tf.Tensor1D;
          result.acceptProb = tf.keep(tf.reshape(tf.slice(perStep, [0, 2], [-1, 1]), [-1])) as tf.Tensor1D;
        }
      }
      if (positions && posSegs.length > 0) {
        result.trajectory = tf.keep(
          posSegs.length === 1 ? tf.clone(posSegs[0]!) : tf.concat(posSegs, 1),
        ) as tf.Tensor3D;
      }
    });
    tf.dispose([...statSegs, ...posSegs]);
    return result;
  };
}
