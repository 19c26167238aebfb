import { assertInteger, EbmError } from '@ebm/core';
import type * as tf from '@tensorflow/tfjs-core';
import { mlpEnergy } from './mlp-energy.js';

/**
 * WGSL energies for the fused kernels: for each analytic energy kind of `@ebm/models` (its `kernelHint.kind`), a
 * WGSL function that evaluates E and ∇E of ONE chain held in a private array, and the packing of the kind's
 * `kernelHint.params` into a float32 constant buffer `P`. The chain programs (`chain-programs.ts`) call it once
 * per gradient evaluation: one thread per chain, no tfjs ops in between.
 *
 * Generated function (D is a shader constant):
 * ```wgsl
 * fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32
 * ```
 * writes ∇E(x) into `g` and returns E(x). Constants are read from `P : array<f32>`.
 * @module
 */

/** A WGSL energy for one dimension D. */
export interface WgslEnergy {
  /** Kind plus the structural sizes the code depends on (part of the shader cache key). */
  readonly key: string;
  /**
   * Packed constants (bound as `P`; never empty: WebGPU buffers must not be), or a function that builds them on
   * the device for each kernel call (network weights: current values, no host copy).
   */
  readonly params: Float32Array | (() => tf.Tensor1D);
  /** WGSL defining `ebmEnergyGrad` (may define helpers prefixed `ebmE`). */
  readonly code: string;
}

type Params = Readonly<Record<string, unknown>>;

/** Builds the WGSL energy of a kind for dimension `dim` from its `kernelHint.params`. */
export type WgslEnergyBuilder = (params: Params, dim: number) => WgslEnergy;

function bad(kind: string, name: string, value: unknown, want: string, fix: string): never {
  throw new EbmError('INVALID_PARAM', `kernelHint.params.${name} of a "${kind}" energy must be ${want}.`, {
    argument: `params.${name}`,
    value,
    fix,
  });
}

function num(kind: string, p: Params, name: string, opts: { positive?: boolean } = {}): number {
  const v = p?.[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || (opts.positive === true && !(v > 0))) {
    bad(
      kind,
      name,
      v,
      opts.positive ? 'a number > 0' : 'a finite number',
      "pass the energy's own kernelHint.",
    );
  }
  return v;
}

function vector(kind: string, p: Params, name: string, len: number): number[] {
  const v = p?.[name];
  if (!Array.isArray(v) || v.length !== len || !v.every((e) => typeof e === 'number' && Number.isFinite(e))) {
    bad(
      kind,
      name,
      Array.isArray(v) ? `length ${v.length}` : typeof v,
      `${len} finite numbers`,
      "pass the energy's own kernelHint (its dimension must match the chains).",
    );
  }
  return v as number[];
}

function matrixRows(kind: string, p: Params, name: string, rows: number, cols: number): number[] {
  const v = p?.[name];
  if (!Array.isArray(v) || v.length !== rows) {
    bad(
      kind,
      name,
      Array.isArray(v) ? `${v.length} rows` : typeof v,
      `${rows} rows of ${cols} numbers`,
      "pass the energy's own kernelHint (its dimension must match the chains).",
    );
  }
  const out: number[] = [];
  for (const row of v as unknown[]) {
    if (
      !Array.isArray(row) ||
      row.length !== cols ||
      !row.every((e) => typeof e === 'number' && Number.isFinite(e))
    ) {
      bad(
        kind,
        name,
        'a malformed row',
        `${rows} rows of ${cols} finite numbers`,
        "pass the energy's own kernelHint.",
      );
    }
    out.push(...(row as number[]));
  }
  return out;
}

function minDim(kind: string, dim: number, min: number, even = false): void {
  if (dim < min || (even && dim % 2 !== 0)) {
    throw new EbmError(
      'SHAPE_MISMATCH',
      `A "${kind}" energy needs dimension >= ${min}${even ? ' and even' : ''}.`,
      {
        argument: 'x0',
        value: dim,
        fix: `pass chains of dimension >= ${min}${even ? ' (even)' : ''}.`,
      },
    );
  }
}

const f = (v: number): Float32Array => Float32Array.from([v]);

/** The WGSL energies, by kind. Formulas as in `@ebm/models` (each class's JSDoc). */
export const WGSL_ENERGIES: Readonly<Record<string, WgslEnergyBuilder>> = {
  /** DoubleWell E = h·Σ(xᵢ² − b²)², ∂ᵢE = 4h·xᵢ(xᵢ² − b²). P = [h, b²]. */
  doubleWell: (p) => ({
    key: 'doubleWell',
    params: Float32Array.from([
      num('doubleWell', p, 'barrierHeight', { positive: true }),
      num('doubleWell', p, 'b', { positive: true }) ** 2,
    ]),
    code: /* wgsl */ `
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
  let h = P[0];
  let b2 = P[1];
  var e = 0.0;
  for (var j = 0; j < D; j++) {
    let xj = (*x)[j];
    let u = xj * xj - b2;
    (*g)[j] = 4.0 * h * xj * u;
    e += u * u;
  }
  return h * e;
}`,
  }),
  /** Harmonic E = ½k·Σxᵢ², ∇E = k·x. P = [k]. */
  harmonic: (p) => ({
    key: 'harmonic',
    params: f(num('harmonic', p, 'k', { positive: true })),
    code: /* wgsl */ `
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
  let k = P[0];
  var e = 0.0;
  for (var j = 0; j < D; j++) {
    let xj = (*x)[j];
    (*g)[j] = k * xj;
    e += xj * xj;
  }
  return 0.5 * k * e;
}`,
  }),
  /** Rastrigin E = a·D + Σ[xᵢ² − a·cos(2πxᵢ)], ∂ᵢE = 2xᵢ + 2πa·sin(2πxᵢ). P = [a]. */
  rastrigin: (p) => ({
    key: 'rastrigin',
    params: f(num('rastrigin', p, 'a')),
    code: /* wgsl */ `
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
  let a = P[0];
  let w = 6.283185307179586;
  var e = a * f32(D);
  for (var j = 0; j < D; j++) {
    let xj = (*x)[j];
    (*g)[j] = 2.0 * xj + w * a * sin(w * xj);
    e += xj * xj - a * cos(w * xj);
  }
  return e;
}`,
  }),
  /**
   * ManyWell E = Σⱼ[x_{2j}⁴ − 6x_{2j}² − 0.5x_{2j} + ½x_{2j+1}²], ∂/∂x_{2j} = 4x³ − 12x − 0.5, ∂/∂x_{2j+1} = x.
   * D even. P = [0] (unused).
   */
  manyWell: (_p, dim) => {
    minDim('manyWell', dim, 2, true);
    return {
      key: 'manyWell',
      params: f(0),
      code: /* wgsl */ `
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
  var e = 0.0;
  for (var j = 0; j < D; j += 2) {
    let a = (*x)[j];
    let c = (*x)[j + 1];
    let a2 = a * a;
    (*g)[j] = 4.0 * a2 * a - 12.0 * a - 0.5;
    (*g)[j + 1] = c;
    e += a2 * a2 - 6.0 * a2 - 0.5 * a + 0.5 * c * c;
  }
  return e + P[0]; // P = [0]: every program binds P, so the shader must use it
}`,
    };
  },
  /**
   * Rosenbrock E = Σ_{i<D}[(a − xᵢ)² + b(x_{i+1} − xᵢ²)²],
   * ∂ᵢE = −2(a − xᵢ) − 4b·xᵢ(x_{i+1} − xᵢ²) [i < D] + 2b(xᵢ − x_{i−1}²) [i > 1]. P = [a, b].
   */
  rosenbrock: (p, dim) => {
    minDim('rosenbrock', dim, 2);
    return {
      key: 'rosenbrock',
      params: Float32Array.from([num('rosenbrock', p, 'a'), num('rosenbrock', p, 'b', { positive: true })]),
      code: /* wgsl */ `
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
  let a = P[0];
  let b = P[1];
  var e = 0.0;
  var carry = 0.0; // 2b(x_i − x_{i−1}²) from the previous term
  for (var j = 0; j < D - 1; j++) {
    let xj = (*x)[j];
    let r = (*x)[j + 1] - xj * xj;
    let am = a - xj;
    (*g)[j] = -2.0 * am - 4.0 * b * xj * r + carry;
    carry = 2.0 * b * r;
    e += am * am + b * r * r;
  }
  (*g)[D - 1] = carry;
  return e;
}`,
    };
  },
  /**
   * Ackley, r = √(Σxᵢ²/D), m = Σcos(c·xᵢ)/D: E = −a·e^{−b·r} − e^{m} + a + e,
   * ∂ᵢE = a·b·e^{−b·r}·xᵢ/(D·r) (0 at r = 0) + (c/D)·e^{m}·sin(c·xᵢ). P = [a, b, c].
   */
  ackley: (p) => ({
    key: 'ackley',
    params: Float32Array.from([
      num('ackley', p, 'a'),
      num('ackley', p, 'b', { positive: true }),
      num('ackley', p, 'c'),
    ]),
    code: /* wgsl */ `
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
  let a = P[0];
  let b = P[1];
  let c = P[2];
  let d = f32(D);
  var s2 = 0.0;
  var sc = 0.0;
  for (var j = 0; j < D; j++) {
    let xj = (*x)[j];
    s2 += xj * xj;
    sc += cos(c * xj);
  }
  let r = sqrt(s2 / d);
  let er = exp(-b * r);
  let em = exp(sc / d);
  let coef = select(0.0, a * b * er / (d * r), r > 0.0);
  let cs = c / d * em;
  for (var j = 0; j < D; j++) {
    let xj = (*x)[j];
    (*g)[j] = coef * xj + cs * sin(c * xj);
  }
  return -a * er - em + a + 2.718281828459045;
}`,
  }),
  /** Gaussian E = ½(x − μ)ᵀΣ⁻¹(x − μ), ∇E = Σ⁻¹(x − μ). P = [μ (D), Σ⁻¹ (D×D, row-major)]. */
  gaussian: (p, dim) => ({
    key: 'gaussian',
    params: Float32Array.from([
      ...vector('gaussian', p, 'mean', dim),
      ...matrixRows('gaussian', p, 'precision', dim, dim),
    ]),
    code: /* wgsl */ `
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
  var d : array<f32, D>;
  for (var j = 0; j < D; j++) {
    d[j] = (*x)[j] - P[j];
  }
  var e = 0.0;
  for (var j = 0; j < D; j++) {
    var s = 0.0;
    let row = D + j * D;
    for (var k = 0; k < D; k++) {
      s += P[row + k] * d[k];
    }
    (*g)[j] = s;
    e += d[j] * s;
  }
  return 0.5 * e;
}`,
  }),
  /**
   * Gaussian mixture E = −log Σₖ exp(cₖ − ½(x − μₖ)ᵀPₖ(x − μₖ)), cₖ = log wₖ − ½ log det Σₖ − (D/2) log 2π,
   * ∇E = Σₖ rₖ·Pₖ(x − μₖ) with rₖ the softmax of the exponents — accumulated in one pass over k with a
   * running maximum (online log-sum-exp), so only one D-vector of state. P = [c (K), μ (K×D), Pₖ (K×D×D)].
   */
  gaussianMixture: (p, dim) => {
    const logW = p?.logWeights;
    const K = Array.isArray(logW) ? logW.length : 0;
    if (K < 1)
      bad('gaussianMixture', 'logWeights', logW, 'a non-empty array', "pass the energy's own kernelHint.");
    const lw = vector('gaussianMixture', p, 'logWeights', K);
    const ld = vector('gaussianMixture', p, 'logDets', K);
    const means = matrixRows('gaussianMixture', p, 'means', K, dim);
    const precs = matrixRows('gaussianMixture', p, 'precisions', K * dim, dim);
    const c = lw.map((w, k) => w - 0.5 * ld[k]! - (dim / 2) * Math.log(2 * Math.PI));
    return {
      key: `gaussianMixture_K${K}`,
      params: Float32Array.from([...c, ...means, ...precs]),
      code: /* wgsl */ `
const EBM_K : i32 = ${K};
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
  var m = -3.0e38;
  var s = 0.0;
  var d : array<f32, D>;
  var q : array<f32, D>;
  for (var j = 0; j < D; j++) {
    (*g)[j] = 0.0;
  }
  for (var k = 0; k < EBM_K; k++) {
    let mu = EBM_K + k * D;
    let pk = EBM_K + EBM_K * D + k * D * D;
    for (var j = 0; j < D; j++) {
      d[j] = (*x)[j] - P[mu + j];
    }
    var quad = 0.0;
    for (var j = 0; j < D; j++) {
      var t = 0.0;
      for (var i = 0; i < D; i++) {
        t += P[pk + j * D + i] * d[i];
      }
      q[j] = t;
      quad += d[j] * t;
    }
    let l = P[k] - 0.5 * quad;
    if (l > m) {
      let sc = exp(m - l);
      s = s * sc + 1.0;
      for (var j = 0; j < D; j++) {
        (*g)[j] = (*g)[j] * sc + q[j];
      }
      m = l;
    } else {
      let w = exp(l - m);
      s += w;
      for (var j = 0; j < D; j++) {
        (*g)[j] += w * q[j];
      }
    }
  }
  for (var j = 0; j < D; j++) {
    (*g)[j] = (*g)[j] / s;
  }
  return -(m + log(s));
}`,
    };
  },
  /**
   * Neal's funnel, row (v, x₁…): E = v²/(2σ²) + ½e^{−v}Σxᵢ² + ½(D − 1)v,
   * ∂E/∂v = v/σ² − ½e^{−v}Σxᵢ² + ½(D − 1), ∂E/∂xᵢ = e^{−v}xᵢ. P = [σ].
   */
  funnel: (p, dim) => {
    minDim('funnel', dim, 2);
    return {
      key: 'funnel',
      params: f(num('funnel', p, 'scale', { positive: true })),
      code: /* wgsl */ `
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
  let s2 = P[0] * P[0];
  let v = (*x)[0];
  let ev = exp(-v);
  var ss = 0.0;
  for (var j = 1; j < D; j++) {
    let xj = (*x)[j];
    ss += xj * xj;
    (*g)[j] = ev * xj;
  }
  let half = 0.5 * f32(D - 1);
  (*g)[0] = v / s2 - 0.5 * ev * ss + half;
  return v * v / (2.0 * s2) + 0.5 * ev * ss + half * v;
}`,
    };
  },
  /**
   * Banana, t = x₂ − b(x₁² − σ²): E = x₁²/(2σ²) + ½t² + ½Σ_{i>2}xᵢ²,
   * ∂E/∂x₁ = x₁/σ² − 2b·x₁·t, ∂E/∂x₂ = t, ∂E/∂xᵢ = xᵢ. P = [b, σ].
   */
  banana: (p, dim) => {
    minDim('banana', dim, 2);
    return {
      key: 'banana',
      params: Float32Array.from([
        num('banana', p, 'curvature'),
        num('banana', p, 'scale', { positive: true }),
      ]),
      code: /* wgsl */ `
fn ebmEnergyGrad(x : ptr<function, array<f32, D>>, g : ptr<function, array<f32, D>>) -> f32 {
  let b = P[0];
  let s2 = P[1] * P[1];
  let x1 = (*x)[0];
  let t = (*x)[1] - b * (x1 * x1 - s2);
  (*g)[0] = x1 / s2 - 2.0 * b * x1 * t;
  (*g)[1] = t;
  var e = x1 * x1 / (2.0 * s2) + 0.5 * t * t;
  for (var j = 2; j < D; j++) {
    let xj = (*x)[j];
    (*g)[j] = xj;
    e += 0.5 * xj * xj;
  }
  return e;
}`,
    };
  },
};

/** Kinds with a fused WGSL energy, the MLP included (see `mlp-energy.ts`). */
export const WGSL_ENERGY_KINDS: readonly string[] = [...Object.keys(WGSL_ENERGIES), 'mlp'];

/** The WGSL energy of `kind` for dimension `dim`; throws `NOT_IMPLEMENTED` for other kinds. */
export function wgslEnergy(kind: string, params: Params, dim: number): WgslEnergy {
  assertInteger('dim', dim, 1);
  const b = kind === 'mlp' ? mlpEnergy : WGSL_ENERGIES[kind];
  if (b === undefined) {
    throw new EbmError('NOT_IMPLEMENTED', `No fused WGSL energy for kind "${kind}".`, {
      argument: 'kind',
      value: kind,
      fix: `use one of: ${WGSL_ENERGY_KINDS.join(', ')} (other energies use the sampler step loop).`,
    });
  }
  return b(params, dim);
}
