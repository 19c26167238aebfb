import { EbmError } from '../errors.js';
import { mlpHostEnergy } from './mlp.js';

/**
 * Energies of `@ebm/models`'s analytic kinds on host typed arrays, for the fused CPU kernels.
 *
 * Every formula is written **float32-faithfully to the energy's composite tfjs code on the cpu backend**: each
 * tfjs op rounds its result to float32 (`f = Math.fround` after each op here), row sums accumulate in a double
 * and round once (tfjs-cpu's `Sum`), `mean` divides each element by the count first (tfjs-cpu's `Mean`), and
 * `matMul` accumulates in doubles over blocks of 48 inner indices, rounding between blocks (tfjs-cpu's
 * `BatchMatMul`). So on the cpu backend a fused chain reproduces the sampler's step loop bit for bit. Keep each
 * formula in step with `packages/models/src/analytic/*` (the tests compare them bit for bit).
 *
 * No tfjs imports: this module also runs inside worker threads. Internal module.
 * @module
 */

const f = Math.fround;

/** An energy of one kind with fixed parameters, on rows of a `[n, D]` row-major float32 block. */
export interface HostEnergy {
  readonly kind: string;
  /** ∇E of rows `x[xo …]` (n rows of D) into `g[go …]`. */
  grad(x: Float32Array, xo: number, g: Float32Array, go: number, n: number, D: number): void;
  /** E of rows `x[xo …]` into `e[eo … eo + n)`. */
  energy(x: Float32Array, xo: number, e: Float32Array, eo: number, n: number, D: number): void;
  /**
   * DoubleWell only: its float32 constants `c4h = f32(4h)`, `b2 = f32(b²)`, so that the Langevin tile can
   * compute the same gradient in wasm SIMD (`philox-simd.ts`).
   */
  readonly doubleWell?: { readonly c4h: number; readonly b2: number };
}

/** Plain-data parameters as they arrive from a `kernelHint` (or a worker message). */
export type HostParams = Readonly<Record<string, unknown>>;

function bad(kind: string, name: string, value: unknown, fix: string): never {
  throw new EbmError('INVALID_PARAM', `kernelHint.params.${name} of a "${kind}" energy is invalid.`, {
    argument: `params.${name}`,
    value,
    fix,
  });
}

function num(p: HostParams, kind: string, name: string, positive = false): number {
  const v = p?.[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive && !(v > 0))) {
    bad(kind, name, v, `pass the energy's own kernelHint (a finite number${positive ? ' > 0' : ''}).`);
  }
  return v;
}

function vec(p: HostParams, kind: string, name: string, length?: number): Float32Array {
  const v = p?.[name] as ArrayLike<unknown> | undefined;
  if (v === null || typeof v !== 'object' || typeof v.length !== 'number') {
    bad(kind, name, v, "pass the energy's own kernelHint (an array of numbers).");
  }
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) bad(kind, name, x, 'every entry must be finite.');
    out[i] = x;
  }
  if (length !== undefined && out.length !== length) {
    bad(kind, name, out.length, `expected ${length} entries (the energy's dimension).`);
  }
  return out;
}

/** Rows of numbers → one flat float32 array (row-major), each row of length `cols`. */
function mat(p: HostParams, kind: string, name: string, rows: number, cols: number): Float32Array {
  const m = p?.[name] as ArrayLike<ArrayLike<unknown>> | undefined;
  if (m === null || typeof m !== 'object' || m.length !== rows) {
    bad(kind, name, m === null || typeof m !== 'object' ? m : m.length, `expected ${rows} rows.`);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = m[r];
    if (row === null || typeof row !== 'object' || row.length !== cols) {
      bad(kind, `${name}[${r}]`, row, `expected ${cols} numbers.`);
    }
    for (let c = 0; c < cols; c++) {
      const x = row[c];
      if (typeof x !== 'number' || !Number.isFinite(x)) bad(kind, name, x, 'every entry must be finite.');
      out[r * cols + c] = x;
    }
  }
  return out;
}

/**
 * `out[oo + j] = Σ_k a[ao + k]·B[k·D + j]` for j < D, as tfjs-cpu's `BatchMatMul` of a `[1, D]` row with a `[D, D]`
 * matrix: double sums over blocks of 48 inner indices, the float32 result accumulated block by block.
 */
function rowTimesMatrix(
  a: Float32Array,
  ao: number,
  B: Float32Array,
  bo: number,
  D: number,
  out: Float32Array,
  oo: number,
): void {
  for (let j = 0; j < D; j++) {
    let acc = 0;
    for (let k0 = 0; k0 < D; k0 += 48) {
      const k1 = Math.min(k0 + 48, D);
      let s = 0;
      for (let k = k0; k < k1; k++) s += a[ao + k]! * B[bo + k * D + j]!;
      acc = f(acc + s);
    }
    out[oo + j] = acc;
  }
}

/** DoubleWell E = h·Σ(xᵢ² − b²)², ∇ᵢE = (4h·xᵢ)·(xᵢ² − b²). */
function doubleWell(p: HostParams): HostEnergy {
  const h = num(p, 'doubleWell', 'barrierHeight', true);
  const b = num(p, 'doubleWell', 'b', true);
  const c4h = f(4 * h);
  const b2 = f(b * b);
  const hf = f(h);
  return {
    kind: 'doubleWell',
    doubleWell: { c4h, b2 },
    grad(x, xo, g, go, n, D) {
      const m = n * D;
      for (let i = 0; i < m; i++) {
        const v = x[xo + i]!;
        g[go + i] = f(f(c4h * v) * f(f(v * v) - b2));
      }
    },
    energy(x, xo, e, eo, n, D) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let j = 0; j < D; j++) {
          const v = x[xo + r * D + j]!;
          const u = f(f(v * v) - b2);
          s += f(u * u);
        }
        e[eo + r] = f(hf * f(s));
      }
    },
  };
}

/** Harmonic E = ½k·Σxᵢ², ∇E = k·x. */
function harmonic(p: HostParams): HostEnergy {
  const k = num(p, 'harmonic', 'k', true);
  const kf = f(k);
  const half = f(0.5 * k);
  return {
    kind: 'harmonic',
    grad(x, xo, g, go, n, D) {
      const m = n * D;
      for (let i = 0; i < m; i++) g[go + i] = f(kf * x[xo + i]!);
    },
    energy(x, xo, e, eo, n, D) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let j = 0; j < D; j++) {
          const v = x[xo + r * D + j]!;
          s += f(v * v);
        }
        e[eo + r] = f(half * f(s));
      }
    },
  };
}

/** Rosenbrock E = Σ (a − xᵢ)² + b·(xᵢ₊₁ − xᵢ²)². */
function rosenbrock(p: HostParams): HostEnergy {
  const a = f(num(p, 'rosenbrock', 'a'));
  const bRaw = num(p, 'rosenbrock', 'b', true);
  const b = f(bRaw);
  const b4 = f(4 * bRaw);
  const b2 = f(2 * bRaw);
  return {
    kind: 'rosenbrock',
    grad(x, xo, g, go, n, D) {
      for (let r = 0; r < n; r++) {
        const o = xo + r * D;
        const q = go + r * D;
        let prevTail = 0; // gTail_{j−1}, 0 for j = 0
        for (let j = 0; j < D; j++) {
          let head = 0;
          let tail = 0;
          if (j < D - 1) {
            const xi = x[o + j]!;
            const rr = f(x[o + j + 1]! - f(xi * xi));
            head = f(f(-2 * f(a - xi)) - f(f(b4 * xi) * rr));
            tail = f(b2 * rr);
          }
          g[q + j] = f(head + prevTail);
          prevTail = tail;
        }
      }
    },
    energy(x, xo, e, eo, n, D) {
      for (let r = 0; r < n; r++) {
        const o = xo + r * D;
        let s = 0;
        for (let j = 0; j < D - 1; j++) {
          const xi = x[o + j]!;
          const d = f(a - xi);
          const u = f(x[o + j + 1]! - f(xi * xi));
          s += f(f(d * d) + f(b * f(u * u)));
        }
        e[eo + r] = f(s);
      }
    },
  };
}

/** Ackley: E = −a·exp(−b·√(mean x²)) − exp(mean cos(c·x)) + a + e. */
function ackley(p: HostParams): HostEnergy {
  const aRaw = num(p, 'ackley', 'a');
  const bRaw = num(p, 'ackley', 'b', true);
  const cRaw = num(p, 'ackley', 'c');
  const negB = f(-bRaw);
  const c = f(cRaw);
  const negA = f(-aRaw);
  const constE = f(aRaw + Math.E);
  const tiny = f(1e-30);
  return {
    kind: 'ackley',
    grad(x, xo, g, go, n, D) {
      const Df = f(D);
      const ab = f((aRaw * bRaw) / D);
      const cd = f(cRaw / D);
      for (let r = 0; r < n; r++) {
        const o = xo + r * D;
        const q = go + r * D;
        let ms = 0;
        let mc = 0;
        for (let j = 0; j < D; j++) {
          const v = x[o + j]!;
          ms += f(f(v * v) / Df);
          mc += f(f(Math.cos(f(c * v))) / Df);
        }
        const rad = f(Math.sqrt(f(ms)));
        const safeR = Math.max(rad, tiny);
        const coef = f(f(ab * f(Math.exp(f(negB * rad)))) / safeR);
        const em = f(Math.exp(f(mc)));
        const k2 = f(cd * em);
        const pos = rad > 0;
        for (let j = 0; j < D; j++) {
          const v = x[o + j]!;
          const g1 = pos ? f(coef * v) : 0;
          const g2 = f(k2 * f(Math.sin(f(c * v))));
          g[q + j] = f(g1 + g2);
        }
      }
    },
    energy(x, xo, e, eo, n, D) {
      const Df = f(D);
      for (let r = 0; r < n; r++) {
        const o = xo + r * D;
        let ms = 0;
        let mc = 0;
        for (let j = 0; j < D; j++) {
          const v = x[o + j]!;
          ms += f(f(v * v) / Df);
          mc += f(f(Math.cos(f(c * v))) / Df);
        }
        const rad = f(Math.sqrt(f(ms)));
        const t1 = f(negA * f(Math.exp(f(negB * rad))));
        const t2 = -f(Math.exp(f(mc)));
        e[eo + r] = f(f(t1 + t2) + constE);
      }
    },
  };
}

/** Rastrigin E = a·D + Σ (xᵢ² − a·cos 2πxᵢ), ∇ᵢE = 2xᵢ + 2πa·sin 2πxᵢ. */
function rastrigin(p: HostParams): HostEnergy {
  const aRaw = num(p, 'rastrigin', 'a');
  const a = f(aRaw);
  const twoPi = f(2 * Math.PI);
  const twoPiA = f(2 * Math.PI * aRaw);
  return {
    kind: 'rastrigin',
    grad(x, xo, g, go, n, D) {
      const m = n * D;
      for (let i = 0; i < m; i++) {
        const v = x[xo + i]!;
        g[go + i] = f(f(2 * v) + f(twoPiA * f(Math.sin(f(twoPi * v)))));
      }
    },
    energy(x, xo, e, eo, n, D) {
      const aD = f(aRaw * D);
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let j = 0; j < D; j++) {
          const v = x[xo + r * D + j]!;
          s += f(f(v * v) - f(a * f(Math.cos(f(twoPi * v)))));
        }
        e[eo + r] = f(f(s) + aD);
      }
    },
  };
}

/** Gaussian E = ½(x − μ)ᵀP(x − μ), ∇E = (x − μ)ᵀP (P symmetric). */
function gaussian(p: HostParams, D: number): HostEnergy {
  const mu = vec(p, 'gaussian', 'mean', D);
  const P = mat(p, 'gaussian', 'precision', D, D);
  const diff = new Float32Array(D);
  const q = new Float32Array(D);
  const half = f(0.5);
  return {
    kind: 'gaussian',
    grad(x, xo, g, go, n) {
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < D; j++) diff[j] = x[xo + r * D + j]! - mu[j]!;
        rowTimesMatrix(diff, 0, P, 0, D, g, go + r * D);
      }
    },
    energy(x, xo, e, eo, n) {
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < D; j++) diff[j] = x[xo + r * D + j]! - mu[j]!;
        rowTimesMatrix(diff, 0, P, 0, D, q, 0);
        let s = 0;
        for (let j = 0; j < D; j++) s += f(q[j]! * diff[j]!);
        e[eo + r] = f(half * f(s));
      }
    },
  };
}

/**
 * Gaussian mixture: E = −logΣₖ exp(ℓₖ), ℓₖ = log wₖ − ½ log|Σₖ| − (D/2) log 2π − ½(x − μₖ)ᵀPₖ(x − μₖ);
 * ∇E = Σₖ rₖ·Pₖ(x − μₖ) with rₖ = exp(ℓₖ − logΣexp ℓ).
 */
function gaussianMixture(p: HostParams, D: number): HostEnergy {
  const kind = 'gaussianMixture';
  const logW = p?.logWeights as ArrayLike<number> | undefined;
  if (logW === null || typeof logW !== 'object' || !(logW.length >= 1)) {
    bad(kind, 'logWeights', logW, 'pass the energy’s own kernelHint.');
  }
  const K = logW.length;
  const means = mat(p, kind, 'means', K, D);
  const precs = mat(p, kind, 'precisions', K * D, D);
  const logDets = p?.logDets as ArrayLike<number> | undefined;
  if (logDets === null || typeof logDets !== 'object' || logDets.length !== K) {
    bad(kind, 'logDets', logDets, `expected ${K} numbers.`);
  }
  const logc = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    logc[k] = logW[k]! - 0.5 * logDets[k]! - (D / 2) * Math.log(2 * Math.PI);
  }
  const diff = new Float32Array(K * D);
  const q = new Float32Array(K * D);
  const logp = new Float32Array(K);
  const half = f(0.5);
  /** ℓₖ for row r into `logp`, with `diff` and `q` = Pₖ·diff kept. */
  const terms = (x: Float32Array, o: number) => {
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < D; j++) diff[k * D + j] = x[o + j]! - means[k * D + j]!;
      rowTimesMatrix(diff, k * D, precs, k * D * D, D, q, k * D);
      let s = 0;
      for (let j = 0; j < D; j++) s += f(q[k * D + j]! * diff[k * D + j]!);
      logp[k] = f(logc[k]! - f(half * f(s)));
    }
  };
  /** tfjs's logSumExp: max, exp of differences, sum, log, plus the max. */
  const lse = () => {
    let mx = -Infinity;
    for (let k = 0; k < K; k++) if (logp[k]! > mx || Number.isNaN(logp[k]!)) mx = logp[k]!;
    let s = 0;
    for (let k = 0; k < K; k++) s += f(Math.exp(f(logp[k]! - mx)));
    return f(mx + f(Math.log(f(s))));
  };
  return {
    kind,
    grad(x, xo, g, go, n) {
      for (let r = 0; r < n; r++) {
        terms(x, xo + r * D);
        const l = lse();
        for (let k = 0; k < K; k++) logp[k] = f(Math.exp(f(logp[k]! - l)));
        for (let j = 0; j < D; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += f(logp[k]! * q[k * D + j]!);
          g[go + r * D + j] = f(s);
        }
      }
    },
    energy(x, xo, e, eo, n) {
      for (let r = 0; r < n; r++) {
        terms(x, xo + r * D);
        e[eo + r] = -lse();
      }
    },
  };
}

/** Neal's funnel: E = v²/(2s²) + ½e^{−v}Σxᵢ² + ½(D−1)v (v = x₀). */
function funnel(p: HostParams): HostEnergy {
  const s = num(p, 'funnel', 'scale', true);
  const s2 = f(s ** 2);
  const twoS2 = f(2 * s ** 2);
  const half = f(0.5);
  return {
    kind: 'funnel',
    grad(x, xo, g, go, n, D) {
      const c = f(0.5 * (D - 1));
      for (let r = 0; r < n; r++) {
        const o = xo + r * D;
        const v = x[o]!;
        const ev = f(Math.exp(-v));
        let ss = 0;
        for (let j = 1; j < D; j++) ss += f(x[o + j]! * x[o + j]!);
        g[go + r * D] = f(f(f(v / s2) - f(half * f(ev * f(ss)))) + c);
        for (let j = 1; j < D; j++) g[go + r * D + j] = f(ev * x[o + j]!);
      }
    },
    energy(x, xo, e, eo, n, D) {
      const c = f(0.5 * (D - 1));
      for (let r = 0; r < n; r++) {
        const o = xo + r * D;
        const v = x[o]!;
        let ss = 0;
        for (let j = 1; j < D; j++) ss += f(x[o + j]! * x[o + j]!);
        const t1 = f(f(v * v) / twoS2);
        const t2 = f(half * f(f(Math.exp(-v)) * f(ss)));
        e[eo + r] = f(f(t1 + t2) + f(c * v));
      }
    },
  };
}

/** Banana (Haario): t = x₂ − b(x₁² − s²), E = x₁²/(2s²) + ½t² + ½Σ_{i>2} xᵢ². */
function banana(p: HostParams): HostEnergy {
  const bRaw = num(p, 'banana', 'curvature');
  const sRaw = num(p, 'banana', 'scale', true);
  const b = f(bRaw);
  const b2 = f(2 * bRaw);
  const s2 = f(sRaw ** 2);
  const twoS2 = f(2 * sRaw ** 2);
  const half = f(0.5);
  return {
    kind: 'banana',
    grad(x, xo, g, go, n, D) {
      for (let r = 0; r < n; r++) {
        const o = xo + r * D;
        const q = go + r * D;
        const x1 = x[o]!;
        const t = f(x[o + 1]! - f(b * f(f(x1 * x1) - s2)));
        g[q] = f(f(x1 / s2) - f(f(b2 * x1) * t));
        g[q + 1] = t;
        for (let j = 2; j < D; j++) g[q + j] = x[o + j]!;
      }
    },
    energy(x, xo, e, eo, n, D) {
      for (let r = 0; r < n; r++) {
        const o = xo + r * D;
        const x1 = x[o]!;
        const t = f(x[o + 1]! - f(b * f(f(x1 * x1) - s2)));
        let v = f(f(f(x1 * x1) / twoS2) + f(half * f(t * t)));
        if (D > 2) {
          let s = 0;
          for (let j = 2; j < D; j++) s += f(x[o + j]! * x[o + j]!);
          v = f(v + f(half * f(s)));
        }
        e[eo + r] = v;
      }
    },
  };
}

/** ManyWell: pairs (a, c), E = Σ (a⁴ − 6a² − ½a + ½c²). */
function manyWell(): HostEnergy {
  const half = f(0.5);
  return {
    kind: 'manyWell',
    grad(x, xo, g, go, n, D) {
      const m = n * D;
      for (let i = 0; i < m; i += 2) {
        const a = x[xo + i]!;
        g[go + i] = f(f(f(4 * f(a ** 3)) - f(12 * a)) - half);
        g[go + i + 1] = x[xo + i + 1]!;
      }
    },
    energy(x, xo, e, eo, n, D) {
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let j = 0; j < D; j += 2) {
          const a = x[xo + r * D + j]!;
          const c = x[xo + r * D + j + 1]!;
          const a2 = f(a * a);
          const u = f(f(f(a2 * a2) - f(6 * a2)) - f(half * a));
          s += f(u + f(half * f(c * c)));
        }
        e[eo + r] = f(s);
      }
    },
  };
}

type Factory = (params: HostParams, D: number) => HostEnergy;

/** The kinds with a host implementation (the `kernelHint.kind`s of `@ebm/models`'s energies). */
export const HOST_ENERGY_KINDS: Readonly<Record<string, Factory>> = {
  doubleWell,
  harmonic,
  rosenbrock,
  ackley,
  rastrigin,
  gaussian,
  gaussianMixture,
  funnel,
  banana,
  manyWell: () => manyWell(),
  /** The MLP energy (see `mlp.ts`). */
  mlp: mlpHostEnergy,
};

/** Whether `kind` has a host implementation. */
export function hasHostEnergy(kind: string): boolean {
  return Object.hasOwn(HOST_ENERGY_KINDS, kind);
}

/** The host energy of `kind` with `params` for dimension `D` (validated), or `undefined` for an unknown kind. */
export function makeHostEnergy(kind: string, params: HostParams, D: number): HostEnergy | undefined {
  const make = Object.hasOwn(HOST_ENERGY_KINDS, kind) ? HOST_ENERGY_KINDS[kind] : undefined;
  if (make === undefined) return undefined;
  if (kind === 'rosenbrock' && D < 2) bad(kind, 'dim', D, 'Rosenbrock needs D >= 2.');
  if (kind === 'banana' && D < 2) bad(kind, 'dim', D, 'Banana needs D >= 2.');
  if (kind === 'funnel' && D < 2) bad(kind, 'dim', D, 'the funnel needs D >= 2.');
  if (kind === 'manyWell' && D % 2 !== 0) bad(kind, 'dim', D, 'ManyWell needs an even D.');
  return make(params, D);
}
