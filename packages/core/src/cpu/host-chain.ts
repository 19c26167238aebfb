import { EbmError } from '../errors.js';
import { type HostEnergy, type HostParams, makeHostEnergy } from './host-energies.js';
import { foldInRaw, langevinTile, normalRange, split2Raw, uniformAt } from './philox.js';

/**
 * Whole chains of Langevin, MALA and HMC on host typed arrays: the fused CPU path of `chain.<kind>`.
 *
 * ## Streams (the same as the samplers' step loop)
 * Step t (0-based) of a chain run from key K with `startStep` s uses `k_t = foldIn(K, s + t)` — the key the step
loop gives the step from state step s + t (see core's `ChainKernelInputs.startStep`):
 * - Langevin: ξ_t = `normalArray(k_t, [B, D])`; x ← x − h·∇E(x) + σ√(2h)·ξ_t.
 * - MALA: `[kξ, ku] = splitKey(k_t, 2)`; proposal from `normalArray(kξ, [B, D])`, accept with `uniformArray(ku, [B])`.
 * - HMC: `[kp, ku] = splitKey(k_t, 2)`; p ~ `normalArray(kp, [B, D])`/√m⁻¹, accept with `uniformArray(ku, [B])`.
 * Element (r, j) of every draw is element r·D + j of the flat stream, whoever computes row r: a worker that owns
 * rows r0 … r1 draws exactly those numbers, so the result does not depend on how rows are split.
 *
 * ## Arithmetic
 * Every update rounds to float32 after each operation in the order of the samplers' composite kernels
 * (`langevinStep`, `leapfrogStep`, the MALA/HMC log-ratios, `metropolisAccept`), and the energies are
 * float32-faithful (see `host-energies.ts`), so on the cpu backend a chain equals the step loop bit for bit.
 *
 * Rows are processed in tiles of {@link TILE_ROWS} rows, all steps of a tile at once (chains are independent),
 * so a tile's state stays in the L1/L2 cache. No tfjs imports: this module runs inside worker threads.
 * @module
 */

/** Rows per tile of the chain loop. */
export const TILE_ROWS = 64;

/** What a host chain runs: plain data (it crosses to worker threads as is). */
export interface HostChainSpec {
  /** Energy kind (`kernelHint.kind`). */
  readonly kind: string;
  /** The energy's `kernelHint.params`. */
  readonly params: HostParams;
  /** `'langevin'`, `'mala'` or `'hmc'`. */
  readonly method: string;
  /**
   * `stepSize` (> 0); Langevin: `noiseScale` (σ ≥ 0, default 1); MALA/HMC: `invMass` (a number > 0, default 1);
   * HMC: `nLeapfrogSteps` (integer ≥ 1, default 10).
   */
  readonly settings: Readonly<Record<string, number>>;
  readonly nSteps: number;
  /** Run key: two uint32 words. */
  readonly key: readonly [number, number];
  /** Step index of `x0` (the sampler's `state.step`): step t (0-based) uses `foldIn(key, startStep + t)`. Default 0. */
  readonly startStep?: number;
  /** @deprecated the old name of {@link HostChainSpec.startStep} (read when `startStep` is absent). */
  readonly firstStep?: number;
  /**
   * Langevin only: σ_t of each step t = 0 … nSteps − 1 of this call (replaces `settings.noiseScale`; see core's
   * `ChainKernelInputs.noiseScales`).
   */
  readonly noiseScales?: Float32Array;
}

/** The methods a host chain runs. */
export const HOST_CHAIN_METHODS: readonly string[] = ['langevin', 'mala', 'hmc'];

const f = Math.fround;

function setting(
  settings: Readonly<Record<string, number>>,
  name: string,
  dflt: number,
  check: (v: number) => boolean,
  rule: string,
): number {
  const v = settings?.[name] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
    throw new EbmError('INVALID_PARAM', `settings.${name} must be ${rule}.`, {
      argument: `settings.${name}`,
      value: v,
      fix: `pass ${name} ${rule}.`,
    });
  }
  return v;
}

/** Validated numbers of a spec. */
export interface ParsedChain {
  readonly energy: HostEnergy;
  readonly method: 'langevin' | 'mala' | 'hmc';
  readonly h: number;
  readonly sigma: number;
  readonly invMass: number;
  readonly nLeapfrog: number;
  readonly nSteps: number;
  readonly startStep: number;
  readonly k0: number;
  readonly k1: number;
  /**
   * Per-step noise scales: step t of a (segment) run from `startStep` uses
   * `noiseScales[startStep + t − scalesFrom]` instead of `sigma` (so a segment `{ ...parsed, startStep, nSteps }`
   * reads its own part).
   */
  readonly noiseScales?: Float32Array;
  /** The step index of `noiseScales[0]` (the spec's startStep). */
  readonly scalesFrom?: number;
}

/** Validates per-step noise scales: Langevin only (else `NOT_IMPLEMENTED`), length nSteps, each finite ≥ 0. */
function parseNoiseScales(v: unknown, method: string, nSteps: number): Float32Array | undefined {
  if (v === undefined) return undefined;
  if (method !== 'langevin') {
    throw new EbmError('NOT_IMPLEMENTED', `Per-step noise scales are for Langevin chains, not "${method}".`, {
      argument: 'noiseScales',
      value: method,
      fix: 'leave noiseScales out for MALA/HMC (samplers then use their step loop).',
    });
  }
  if (!(v instanceof Float32Array) || v.length !== nSteps || !v.every((s) => Number.isFinite(s) && s >= 0)) {
    throw new EbmError('INVALID_PARAM', 'noiseScales must be a Float32Array of nSteps finite numbers >= 0.', {
      argument: 'noiseScales',
      value: v instanceof Float32Array ? `Float32Array(${v.length}), nSteps ${nSteps}` : typeof v,
      fix: 'pass one noise scale per step of the call, e.g. a TemperatureScheduler’s values.',
    });
  }
  return v;
}

/** Whether `v` is an RngKey's shape: two integers in [0, 2³²) (no tfjs here, so not `rng.ts`'s `isRngKey`). */
export function isKeyPair(v: unknown): v is readonly [number, number] {
  const word = (w: unknown) => typeof w === 'number' && Number.isInteger(w) && w >= 0 && w < 4294967296;
  return Array.isArray(v) && v.length === 2 && word(v[0]) && word(v[1]);
}

/**
 * Validates a spec for dimension D. Throws `NOT_IMPLEMENTED` for an unknown kind or method (callers then use the
 * step loop) and `INVALID_PARAM` for bad numbers.
 */
export function parseChainSpec(spec: HostChainSpec, D: number): ParsedChain {
  const method = spec.method;
  if (method !== 'langevin' && method !== 'mala' && method !== 'hmc') {
    throw new EbmError(
      'NOT_IMPLEMENTED',
      `The fused CPU chain runs methods ${HOST_CHAIN_METHODS.join(', ')}.`,
      {
        argument: 'method',
        value: method,
        fix: 'use the sampler step loop for other methods (samplers do this automatically).',
      },
    );
  }
  const energy = makeHostEnergy(spec.kind, spec.params, D);
  if (energy === undefined) {
    throw new EbmError('NOT_IMPLEMENTED', `No fused CPU chain for energies of kind "${spec.kind}".`, {
      argument: 'kind',
      value: spec.kind,
      fix: 'use the sampler step loop (samplers do this automatically).',
    });
  }
  const s = spec.settings;
  const h = setting(s, 'stepSize', Number.NaN, (v) => v > 0, 'a finite number > 0');
  const sigma =
    method === 'langevin' ? setting(s, 'noiseScale', 1, (v) => v >= 0, 'a finite number >= 0') : 1;
  const invMass = method === 'langevin' ? 1 : setting(s, 'invMass', 1, (v) => v > 0, 'a finite number > 0');
  const nLeapfrog =
    method === 'hmc'
      ? setting(s, 'nLeapfrogSteps', 10, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1')
      : 0;
  const nSteps = spec.nSteps;
  if (!Number.isInteger(nSteps) || nSteps < 0) {
    throw new EbmError('INVALID_PARAM', 'nSteps must be an integer >= 0.', {
      argument: 'nSteps',
      value: nSteps,
      fix: 'pass the number of steps, e.g. 100.',
    });
  }
  const startStep = spec.startStep ?? spec.firstStep ?? 0;
  if (!Number.isSafeInteger(startStep) || startStep < 0 || !Number.isSafeInteger(startStep + nSteps)) {
    throw new EbmError('INVALID_PARAM', 'startStep must be a non-negative safe integer.', {
      argument: 'startStep',
      value: startStep,
      fix: 'pass the step index the chain starts at (state.step), or leave it out.',
    });
  }
  const key = spec.key;
  if (!isKeyPair(key)) {
    throw new EbmError('INVALID_PARAM', 'key must be an RngKey: two integers in [0, 2^32).', {
      argument: 'key',
      value: key,
      fix: 'make keys with rngKey(seed), foldIn(key, n) or splitKey(key, n).',
    });
  }
  const noiseScales = parseNoiseScales(spec.noiseScales, method, nSteps);
  return {
    energy,
    method,
    h,
    sigma,
    invMass,
    nLeapfrog,
    nSteps,
    startStep,
    k0: key[0],
    k1: key[1],
    ...(noiseScales === undefined ? {} : { noiseScales, scalesFrom: startStep }),
  };
}

/**
 * Per-step keys `foldIn(key, startStep + t)`, split in two for MH methods (4 words per step then): what
 * {@link runParsedChain} draws with (pass them to calls on several row ranges of one chain to compute them once).
 */
export function stepKeys(c: ParsedChain): Uint32Array {
  const two = new Uint32Array(2);
  const mh = c.method !== 'langevin';
  const out = new Uint32Array((mh ? 4 : 2) * c.nSteps);
  for (let t = 0; t < c.nSteps; t++) {
    if (mh) {
      foldInRaw(c.k0, c.k1, c.startStep + t, two, 0);
      split2Raw(two[0]!, two[1]!, out, 4 * t);
    } else foldInRaw(c.k0, c.k1, c.startStep + t, out, 2 * t);
  }
  return out;
}

/** Per-chain counts of accepted proposals (MALA/HMC), or `undefined` for Langevin. */
export type AcceptCounts = Float64Array | undefined;

/**
 * Runs the chain on rows `r0 … r1 − 1` of a `[B, D]` batch (row-major, updated in place). `x` holds the rows
 * from `base` on (default 0: the whole batch; a worker passes its own rows with `base = r0`). Row r draws the
 * stream elements of row r of the whole batch. Returns the number of accepted proposals per row of the range
 * for MALA/HMC.
 */
export function runChainHost(
  spec: HostChainSpec,
  x: Float32Array,
  D: number,
  r0: number,
  r1: number,
  base = 0,
): AcceptCounts {
  return runParsedChain(parseChainSpec(spec, D), x, D, r0, r1, base);
}

/**
 * {@link runChainHost} on an already parsed spec (pass `{ ...parsed, startStep, nSteps }` to run a segment of a
 * chain: segments draw the same stream as one call). With `lastProb` (MALA/HMC; one entry per row of the range)
 * it also writes min(1, α) of the last step per row (0 for a non-finite log-ratio), rounded to float32 as the
 * samplers' `acceptanceRate` info is. `keys`: {@link stepKeys} of `c`, when already computed.
 */
export function runParsedChain(
  c: ParsedChain,
  x: Float32Array,
  D: number,
  r0: number,
  r1: number,
  base = 0,
  lastProb?: Float64Array,
  keys: Uint32Array = stepKeys(c),
): AcceptCounts {
  if (c.nSteps === 0 || r1 <= r0)
    return c.method === 'langevin' ? undefined : new Float64Array(Math.max(0, r1 - r0));
  if (c.method === 'langevin') {
    langevinRows(c, keys, x, D, r0, r1, base);
    return undefined;
  }
  const acc = new Float64Array(r1 - r0);
  if (c.method === 'mala') malaRows(c, keys, x, D, r0, r1, base, acc, lastProb);
  else hmcRows(c, keys, x, D, r0, r1, base, acc, lastProb);
  return acc;
}

/** min(1, exp(logA)) in float32, 0 for a non-finite logA (as the samplers' `acceptProbability`). */
function acceptProb(logA: number): number {
  return Number.isFinite(logA) ? f(Math.exp(Math.min(logA, 0))) : 0;
}

/** Whether a proposal with log-ratio `logA` is accepted against uniform u (as `metropolisAcceptComposite`). */
function accepts(logA: number, u: number): boolean {
  // tf.less(tf.log(u), ratio) with non-finite ratios replaced by −∞.
  return Number.isFinite(logA) && f(Math.log(u)) < logA;
}

/**
 * What every method's tile loop shares: rows r0 … r1 − 1 of x (which holds the rows from `base` on) in tiles of
 * {@link TILE_ROWS} rows (all steps of a tile at once), one set of tile buffers per run, the Philox draws of step t
 * from the per-step keys and, for MALA/HMC, the Metropolis decision of a row (counts into `acc`, indexed from r0).
 */
class ChainTiles {
  /** Gradient and energy of the current state. */
  readonly g: Float32Array;
  readonly e: Float32Array;
  /** The proposal (MALA: y; HMC: q), its gradient and energy. */
  readonly y: Float32Array;
  readonly gy: Float32Array;
  readonly ey: Float32Array;
  /** Normals of a step (Langevin ξ, MALA ξ, HMC p₀). */
  readonly z: Float32Array;
  /** Key words per step: 2 (Langevin: k_t), 4 (MALA/HMC: the normal key, then the uniform key). */
  private readonly w: number;

  constructor(
    private readonly keys: Uint32Array,
    private readonly x: Float32Array,
    private readonly D: number,
    private readonly r0: number,
    private readonly r1: number,
    private readonly base: number,
    private readonly acc?: Float64Array,
    private readonly lastProb?: Float64Array,
  ) {
    const T = TILE_ROWS * D;
    this.w = acc === undefined ? 2 : 4;
    this.g = new Float32Array(T);
    this.e = new Float32Array(TILE_ROWS);
    this.y = new Float32Array(T);
    this.gy = new Float32Array(T);
    this.ey = new Float32Array(TILE_ROWS);
    this.z = new Float32Array(T);
  }

  /** Rows of the tile that starts at row a (tiles start at r0, r0 + TILE_ROWS, … below r1). */
  rows(a: number): number {
    return Math.min(TILE_ROWS, this.r1 - a);
  }

  /** Offset in x of row a (x holds the rows from `base` on). */
  offset(a: number): number {
    return (a - this.base) * this.D;
  }

  /** Word i (0, 1) of step t's normal key (Langevin k_t; MALA kξ; HMC kp). */
  normalKey(t: number, i: 0 | 1): number {
    return this.keys[this.w * t + i]!;
  }

  /** Step t's normals of the tile at row a (m floats) into z: elements a·D … of `normalArray(key, [B, D])`. */
  normals(t: number, a: number, m: number): void {
    normalRange(this.normalKey(t, 0), this.normalKey(t, 1), a * this.D, m, this.z, 0);
  }

  /** Step t's uniform of row `row` (MALA/HMC): element `row` of `uniformArray(ku, [B])`. */
  uniform(t: number, row: number): number {
    return uniformAt(this.keys[4 * t + 2]!, this.keys[4 * t + 3]!, row);
  }

  /**
   * The Metropolis decision of row r of the tile at row a (x offset o) at step t: with `lastProb`, min(1, α) at
   * the last step (`last`); the row's uniform; on acceptance the count and the proposal (y, gy, ey) moved into
   * (x, g, e).
   */
  decide(t: number, a: number, o: number, r: number, logA: number, last: boolean): void {
    const row = a - this.r0 + r;
    if (this.lastProb !== undefined && last) this.lastProb[row] = acceptProb(logA);
    const u = this.uniform(t, a + r);
    if (accepts(logA, u)) {
      this.acc![row]!++;
      const { x, y, g, gy, D } = this;
      for (let j = 0; j < D; j++) {
        const i = r * D + j;
        x[o + i] = y[i]!;
        g[i] = gy[i]!;
      }
      this.e[r] = this.ey[r]!;
    }
  }
}

/** x ← x − h·∇E(x) + σ√(2h)·ξ, per tile, in the float32 order of `langevinStepComposite`. */
function langevinRows(
  c: ParsedChain,
  keys: Uint32Array,
  x: Float32Array,
  D: number,
  r0: number,
  r1: number,
  base: number,
): void {
  const { energy, nSteps } = c;
  const hf = f(c.h);
  const root = Math.sqrt(2 * c.h);
  // σ_t·√(2h) per step: the constant σ, or the per-step scales (this segment's part of them).
  const amps = new Float64Array(nSteps);
  const from = c.startStep - (c.scalesFrom ?? 0);
  for (let t = 0; t < nSteps; t++) amps[t] = (c.noiseScales?.[from + t] ?? c.sigma) * root;
  const anyNoise = amps.some((v) => v !== 0);
  const tl = new ChainTiles(keys, x, D, r0, r1, base);
  const { g, z } = tl;
  for (let a = r0; a < r1; a += TILE_ROWS) {
    const n = tl.rows(a);
    const o = tl.offset(a);
    const m = n * D;
    // Fast path: the tile's state, gradient and normals in the SIMD module's memory, the update in f32x4 (the
    // same float32 operations in the same order, so the same numbers).
    const tile = anyNoise && (a * D) % 4 === 0 && (a * D + m) / 4 <= 0xffffffff ? langevinTile(m) : null;
    if (tile !== null) {
      tile.x.set(x.subarray(o, o + m));
      const dw = energy.doubleWell; // its gradient in f32x4 too (same float32 operations)
      for (let t = 0; t < nSteps; t++) {
        if (dw !== undefined) tile.doubleWellGrad(dw.c4h, dw.b2);
        else energy.grad(tile.x, 0, tile.g, 0, n, D);
        tile.step(tl.normalKey(t, 0), tl.normalKey(t, 1), a * D, hf, f(amps[t]!));
      }
      x.set(tile.x, o);
      continue;
    }
    for (let t = 0; t < nSteps; t++) {
      energy.grad(x, o, g, 0, n, D);
      const ampf = f(amps[t]!);
      if (ampf === 0) {
        for (let i = 0; i < m; i++) x[o + i] = x[o + i]! - f(g[i]! * hf);
      } else {
        tl.normals(t, a, m);
        for (let i = 0; i < m; i++) x[o + i] = f(x[o + i]! - f(g[i]! * hf)) + f(z[i]! * ampf);
      }
    }
  }
}

/** MALA (scalar inverse mass m), in the float32 order of `malaTransition` with β = 1. */
function malaRows(
  c: ParsedChain,
  keys: Uint32Array,
  x: Float32Array,
  D: number,
  r0: number,
  r1: number,
  base: number,
  acc: Float64Array,
  lastProb?: Float64Array,
): void {
  const { energy, nSteps } = c;
  const unit = c.invMass === 1;
  const mf = f(c.invMass);
  const sqrtM = f(Math.sqrt(mf));
  const hf = f(c.h);
  const ampf = f(Math.sqrt(2 * c.h));
  const cf = f(hf * mf);
  const c4 = f(4 * cf);
  const tl = new ChainTiles(keys, x, D, r0, r1, base, acc, lastProb);
  const { g, e, y, gy, ey, z } = tl;
  for (let a = r0; a < r1; a += TILE_ROWS) {
    const n = tl.rows(a);
    const o = tl.offset(a);
    const m = n * D;
    energy.grad(x, o, g, 0, n, D);
    energy.energy(x, o, e, 0, n, D);
    for (let t = 0; t < nSteps; t++) {
      tl.normals(t, a, m);
      for (let i = 0; i < m; i++) {
        const gi = unit ? g[i]! : f(g[i]! * mf);
        const zi = unit ? z[i]! : f(z[i]! * sqrtM);
        y[i] = f(x[o + i]! - f(gi * hf)) + f(zi * ampf);
      }
      energy.grad(y, 0, gy, 0, n, D);
      energy.energy(y, 0, ey, 0, n, D);
      for (let r = 0; r < n; r++) {
        let wf = 0;
        let wb = 0;
        for (let j = 0; j < D; j++) {
          const i = r * D + j;
          const xi = x[o + i]!;
          const yi = y[i]!;
          const fwd = f(f(yi - xi) + f(cf * g[i]!));
          const bwd = f(f(xi - yi) + f(cf * gy[i]!));
          wf += f(f(fwd * fwd) / c4);
          wb += f(f(bwd * bwd) / c4);
        }
        const dE = f(ey[r]! - e[r]!);
        const logA = f(f(-dE - f(wb)) + f(wf));
        tl.decide(t, a, o, r, logA, t === nSteps - 1);
      }
    }
  }
}

/**
 * HMC (scalar inverse mass m, L leapfrog steps), in the float32 order of `hmcTransition`: a half kick
 * (`momentumKick`), then L drifts (`positionDrift`) with full kicks between them and a half kick at the end.
 */
function hmcRows(
  c: ParsedChain,
  keys: Uint32Array,
  x: Float32Array,
  D: number,
  r0: number,
  r1: number,
  base: number,
  acc: Float64Array,
  lastProb?: Float64Array,
): void {
  const { energy, nSteps, nLeapfrog } = c;
  const unit = c.invMass === 1;
  const mf = f(c.invMass);
  const pScale = f(1 / Math.sqrt(c.invMass));
  const half = f(0.5 * c.h);
  const full = f(c.h);
  const epsf = f(c.h);
  const tl = new ChainTiles(keys, x, D, r0, r1, base, acc, lastProb);
  // q: the proposal position (tl.y), gq/eq its gradient/energy, p0 the initial momentum (tl.z).
  const { g, e, y: q, gy: gq, ey: eq, z: p0 } = tl;
  const p = new Float32Array(TILE_ROWS * D);
  const halfF = f(0.5);
  for (let a = r0; a < r1; a += TILE_ROWS) {
    const n = tl.rows(a);
    const o = tl.offset(a);
    const m = n * D;
    energy.grad(x, o, g, 0, n, D);
    energy.energy(x, o, e, 0, n, D);
    for (let t = 0; t < nSteps; t++) {
      tl.normals(t, a, m);
      for (let i = 0; i < m; i++) {
        p0[i] = f(p0[i]! * pScale);
        p[i] = f(p0[i]! - f(g[i]! * half)); // first half kick
        q[i] = x[o + i]!;
      }
      for (let l = 0; l < nLeapfrog; l++) {
        for (let i = 0; i < m; i++) {
          const v = unit ? p[i]! : f(p[i]! * mf);
          q[i] = f(q[i]! + f(v * epsf));
        }
        energy.grad(q, 0, gq, 0, n, D);
        const kick = l === nLeapfrog - 1 ? half : full; // full kicks between drifts, a half kick at the end
        for (let i = 0; i < m; i++) p[i] = f(p[i]! - f(gq[i]! * kick));
      }
      energy.energy(q, 0, eq, 0, n, D);
      for (let r = 0; r < n; r++) {
        let k0 = 0;
        let k1 = 0;
        for (let j = 0; j < D; j++) {
          const i = r * D + j;
          k0 += f(f(p0[i]! * p0[i]!) * mf);
          k1 += f(f(p[i]! * p[i]!) * mf);
        }
        const h0 = f(e[r]! + f(halfF * f(k0)));
        const h1 = f(eq[r]! + f(halfF * f(k1)));
        const logA = f(h0 - h1);
        tl.decide(t, a, o, r, logA, t === nSteps - 1);
      }
    }
  }
}
