import { EbmError } from '../errors.js';
import type { HostEnergy, HostParams } from './host-energies.js';
import { wasmGemm } from './mlp-wasm.js';

/** Rows per block of the MLP's matrix products. */
const TILE_ROWS = 64;

/**
 * The MLP energy `E(x) = W_L·φ(… φ(W₁x + b₁) …) + b_L` (scalar output) and its input gradient, forward and
 * backward fused over a tile of rows on host typed arrays (the kind `mlp` of the fused CPU kernels).
 *
 * Kernel hint (what `MLPEnergy.kernelHint` provides): `{ kind: 'mlp', params }` with `params` of core's one MLP hint
 * format `MLPKernelParams` (`energy-kinds.ts`) — `{ sizes, activation, leakySlope, weights }`, `sizes = [D, w₁, …, 1]`,
 * `activation` one of `silu`/`swish`/`elu`/`leakyRelu`/`tanh`/`relu` for every hidden layer or an array of one per
 * hidden layer (length `sizes.length − 2`), `weights = [K₀, b₀, K₁, b₁, …]`, `K_l` the
 * `[fanIn, fanOut]` kernel (`h = x @ K + b`) as the tensors (variables) themselves or flattened row-major arrays:
 * the kernels read tensors when they run (the cpu/wasm kernel synchronously on the host, the worker pool with
 * `await data()`), so a hint that holds the variables is always up to date during training. `activation` (or an
 * entry of its array) may also be its index in {@link MLP_ACTIVATIONS}.
 * Sums accumulate in doubles; results agree with tfjs's composite to float32 rounding (not bit for bit).
 * No tfjs imports: this module runs inside worker threads. Internal module.
 * @module
 */

/** The kernel-hint kind of MLP energies. */
export const MLP_KIND = 'mlp';

/** Activations of `@ebm/models`'s MLPEnergy, in the order of their numeric codes (0 … 5). */
export const MLP_ACTIVATIONS = ['silu', 'swish', 'elu', 'leakyRelu', 'tanh', 'relu'] as const;

/**
 * The activation code (`silu` for `swish` too, `elu`, `leakyRelu`, `tanh`, `relu`) of each of the `hidden` hidden
 * layers of the hint's `activation`: one name (or index in {@link MLP_ACTIVATIONS}) for every layer, or an array of
 * one per hidden layer.
 */
export function mlpActivationCodes(actRaw: unknown, hidden: number): string[] {
  const one = (a: unknown): string | undefined => {
    const act = typeof a === 'number' ? MLP_ACTIVATIONS[a] : a;
    if (typeof act !== 'string' || !(MLP_ACTIVATIONS as readonly string[]).includes(act)) return undefined;
    return act === 'swish' ? 'silu' : act;
  };
  if (Array.isArray(actRaw)) {
    const codes = actRaw.map(one);
    if (actRaw.length !== hidden || codes.some((c) => c === undefined)) {
      bad(
        'activation',
        actRaw,
        `pass one of ${MLP_ACTIVATIONS.join(', ')} for every hidden layer, or an array of ${hidden} of them (one per hidden layer).`,
      );
    }
    return codes as string[];
  }
  const code = one(actRaw);
  if (code === undefined) {
    bad(
      'activation',
      actRaw,
      `use one of ${MLP_ACTIVATIONS.join(', ')} (or an array of one per hidden layer).`,
    );
  }
  return Array.from({ length: hidden }, () => code);
}

function bad(name: string, value: unknown, fix: string): never {
  throw new EbmError('INVALID_PARAM', `kernelHint.params.${name} of an "mlp" energy is invalid.`, {
    argument: `params.${name}`,
    value,
    fix,
  });
}

function floats(v: unknown, name: string, length: number): Float32Array {
  if (v === null || typeof v !== 'object' || (v as ArrayLike<number>).length !== length) {
    bad(
      name,
      v === null || typeof v !== 'object' ? v : (v as ArrayLike<number>).length,
      `expected ${length} numbers.`,
    );
  }
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/**
 * Whether the MLP of these hint params runs its matrix products in WebAssembly SIMD (hidden widths multiples of
 * 4, at least one hidden layer, WebAssembly SIMD available). Without SIMD the JavaScript loops are slower than
 * tfjs-wasm's own matMul, so the wasm backend's `chain.mlp` declines such MLPs.
 */
export function mlpUsesSimd(p: HostParams): boolean {
  const sizes = p?.sizes as ArrayLike<number> | undefined;
  if (sizes === null || typeof sizes !== 'object' || !(sizes.length >= 3)) return false;
  for (let l = 1; l < sizes.length - 1; l++) if (sizes[l]! % 4 !== 0) return false;
  return wasmGemm(65536) !== null;
}

/** Builds the host MLP energy from its hint params for input dimension D. */
export function mlpHostEnergy(p: HostParams, D: number): HostEnergy {
  const sizes = p?.sizes as ArrayLike<number> | undefined;
  if (
    sizes === null ||
    typeof sizes !== 'object' ||
    !(sizes.length >= 2) ||
    !Array.from(sizes).every((s) => Number.isInteger(s) && s >= 1)
  ) {
    bad('sizes', sizes, 'pass [inputDim, ...widths, 1].');
  }
  if (sizes[0] !== D || sizes[sizes.length - 1] !== 1) {
    bad('sizes', Array.from(sizes), `expected [${D}, ..., 1] (input dimension ${D}, scalar output).`);
  }
  const codes = mlpActivationCodes(p.activation, sizes.length - 2);
  const slope = p.leakySlope ?? 0.2;
  if (typeof slope !== 'number' || !Number.isFinite(slope)) bad('leakySlope', slope, 'pass a finite number.');
  const L = sizes.length - 1;
  const w = p.weights as ArrayLike<unknown> | undefined;
  if (w === null || typeof w !== 'object' || w.length !== 2 * L) {
    bad(
      'weights',
      w === null || typeof w !== 'object' ? w : w.length,
      `expected ${2 * L} arrays [K0, b0, K1, b1, ...].`,
    );
  }
  const K: Float32Array[] = [];
  const b: Float32Array[] = [];
  for (let l = 0; l < L; l++) {
    K.push(floats(w[2 * l], `weights[${2 * l}]`, sizes[l]! * sizes[l + 1]!));
    b.push(floats(w[2 * l + 1], `weights[${2 * l + 1}]`, sizes[l + 1]!));
  }
  const hiddenOk =
    L >= 2 &&
    Array.from(sizes)
      .slice(1, L)
      .every((s) => s % 4 === 0);
  const simd = hiddenOk ? mlpSimd(Array.from(sizes), K, b, codes, slope, D) : null;
  if (simd !== null) return simd;
  // Per layer: pre-activations z and activations h for a tile (h of the last layer is the energy).
  const z = Array.from({ length: L }, (_, l) => new Float64Array(TILE_ROWS * sizes[l + 1]!));
  const h = Array.from({ length: L }, (_, l) => new Float64Array(TILE_ROWS * sizes[l + 1]!));
  const maxW = Math.max(...Array.from(sizes));
  const d1 = new Float64Array(TILE_ROWS * maxW);
  const d2 = new Float64Array(TILE_ROWS * maxW);

  /** Forward pass of rows x[xo …] (n ≤ TILE_ROWS): fills z and h. */
  const forward = (x: Float32Array, xo: number, n: number) => {
    for (let l = 0; l < L; l++) {
      const fin = sizes[l]!;
      const fout = sizes[l + 1]!;
      const Kl = K[l]!;
      const bl = b[l]!;
      const zl = z[l]!;
      const hl = h[l]!;
      const prev = l === 0 ? null : h[l - 1]!;
      const code = codes[l];
      for (let r = 0; r < n; r++) {
        const zo = r * fout;
        for (let j = 0; j < fout; j++) zl[zo + j] = bl[j]!;
        for (let k = 0; k < fin; k++) {
          const v = prev === null ? x[xo + r * fin + k]! : prev[r * fin + k]!;
          if (v === 0) continue;
          const ko = k * fout;
          for (let j = 0; j < fout; j++) zl[zo + j] = zl[zo + j]! + v * Kl[ko + j]!;
        }
        if (l + 1 === L) {
          for (let j = 0; j < fout; j++) hl[zo + j] = zl[zo + j]!;
          continue;
        }
        for (let j = 0; j < fout; j++) {
          const s = zl[zo + j]!;
          let a: number;
          if (code === 'silu') a = s / (1 + Math.exp(-s));
          else if (code === 'elu') a = s > 0 ? s : Math.expm1(s);
          else if (code === 'leakyRelu') a = s < 0 ? slope * s : s;
          else if (code === 'relu') a = Math.max(s, 0);
          else a = Math.tanh(s);
          hl[zo + j] = a;
        }
      }
    }
  };

  /** φₗ'(z) given z and φₗ(z). */
  const dAct = (code: string | undefined, s: number, a: number): number => {
    if (code === 'silu') {
      const sg = 1 / (1 + Math.exp(-s));
      return sg * (1 + s * (1 - sg));
    }
    if (code === 'elu') return s > 0 ? 1 : a + 1;
    if (code === 'leakyRelu') return s < 0 ? slope : 1;
    if (code === 'relu') return s > 0 ? 1 : 0;
    return 1 - a * a;
  };

  return {
    kind: MLP_KIND,
    grad(x, xo, g, go, n0) {
      for (let t0 = 0; t0 < n0; t0 += TILE_ROWS) {
        const n = Math.min(TILE_ROWS, n0 - t0);
        forward(x, xo + t0 * D, n);
        // dE/dh_{L−1} = K_L[:, 0] for every row (scalar output), then back through the layers.
        let up = d1;
        let down = d2;
        {
          const fin = sizes[L - 1]!;
          const KL = K[L - 1]!;
          for (let r = 0; r < n; r++) for (let k = 0; k < fin; k++) up[r * fin + k] = KL[k]!;
          if (L === 1) for (let i = 0; i < n * D; i++) g[go + t0 * D + i] = up[i]!;
        }
        for (let l = L - 2; l >= 0; l--) {
          const fin = sizes[l]!;
          const fout = sizes[l + 1]!;
          const zl = z[l]!;
          const hl = h[l]!;
          const Kl = K[l]!;
          const code = codes[l];
          for (let r = 0; r < n; r++) {
            const ro = r * fout;
            for (let j = 0; j < fout; j++) up[ro + j] = up[ro + j]! * dAct(code, zl[ro + j]!, hl[ro + j]!);
            const target = l === 0 ? null : down;
            for (let k = 0; k < fin; k++) {
              const ko = k * fout;
              let s = 0;
              for (let j = 0; j < fout; j++) s += up[ro + j]! * Kl[ko + j]!;
              if (target === null) g[go + (t0 + r) * D + k] = s;
              else target[r * fin + k] = s;
            }
          }
          const tmp = up;
          up = down;
          down = tmp;
        }
      }
    },
    energy(x, xo, e, eo, n0) {
      for (let t0 = 0; t0 < n0; t0 += TILE_ROWS) {
        const n = Math.min(TILE_ROWS, n0 - t0);
        forward(x, xo + t0 * D, n);
        const out = h[L - 1]!;
        for (let r = 0; r < n; r++) e[eo + t0 + r] = out[r]!;
      }
    },
  };
}

/** φ(s) of an activation code (`silu`, `elu`, `leakyRelu`, `tanh`, `relu`). */
function activation(code: string, slope: number): (s: number) => number {
  if (code === 'silu') return (s) => s / (1 + Math.exp(-s));
  if (code === 'elu') return (s) => (s > 0 ? s : Math.expm1(s));
  if (code === 'leakyRelu') return (s) => (s < 0 ? slope * s : s);
  if (code === 'relu') return (s) => Math.max(s, 0);
  return Math.tanh;
}

/** φ'(s) given s and φ(s). */
function activationGrad(code: string, slope: number): (s: number, a: number) => number {
  if (code === 'silu')
    return (s) => {
      const sg = 1 / (1 + Math.exp(-s));
      return sg * (1 + s * (1 - sg));
    };
  if (code === 'elu') return (s, a) => (s > 0 ? 1 : a + 1);
  if (code === 'leakyRelu') return (s) => (s < 0 ? slope : 1);
  if (code === 'relu') return (s) => (s > 0 ? 1 : 0);
  return (_s, a) => 1 - a * a;
}

/**
 * The MLP with its matrix products in WebAssembly SIMD (`mlp-wasm.ts`, register-blocked float32 gemm): hidden
 * widths padded to multiples of 8 with zero weights (φ(0) = 0 for every activation, so the padding stays 0),
 * the kernels packed once here (`K_l` for the forward pass, `K_lᵀ` for the backward pass), a scalar output;
 * activations (layer l's own φₗ) and the output layer in JavaScript (a SiLU layer keeps its sigmoid from the
 * forward pass for φ′).
 * `null` when wasm SIMD is unavailable.
 */
function mlpSimd(
  sizes: number[],
  K: Float32Array[],
  b: Float32Array[],
  codes: readonly string[],
  slope: number,
  D: number,
): HostEnergy | null {
  const L = sizes.length - 1;
  const T = TILE_ROWS; // a multiple of 4 (the gemm's row block)
  const pad = (w: number) => Math.ceil(w / 8) * 8;
  // Padded widths: W[0] = D (the input, a K of the first product only), W[l] = pad(sizes[l]) for hidden layers.
  const W = sizes.map((s, i) => (i === 0 ? D : pad(s)));
  const DP = pad(D);
  const maxW = Math.max(...W, DP);
  let top = 0;
  const alloc = (n: number) => {
    const at = top;
    top += Math.ceil(n / 4) * 4; // 16-byte aligned
    return at;
  };
  const hiddenL = Array.from({ length: L - 1 }, (_, l) => l);
  const offKp = hiddenL.map((l) => alloc(W[l]! * W[l + 1]!));
  const offBp = hiddenL.map((l) => alloc(W[l + 1]!));
  const offKT = hiddenL.map((l) => alloc(W[l + 1]! * (l === 0 ? DP : W[l]!)));
  const offX = alloc(T * D);
  const offZ = hiddenL.map((l) => alloc(T * W[l + 1]!));
  const offH = hiddenL.map((l) => alloc(T * W[l + 1]!));
  const offS = hiddenL.map((l) => alloc(T * W[l + 1]!)); // SiLU: σ(z) of the forward pass
  const offD1 = alloc(T * maxW);
  const offD2 = alloc(T * maxW);
  const offG = alloc(T * DP);
  const gemm = wasmGemm(4 * top);
  if (gemm === null) return null;
  const m = new Float32Array(gemm.memory.buffer);
  for (const l of hiddenL) {
    const fin = sizes[l]!;
    const fout = sizes[l + 1]!;
    const N = l === 0 ? DP : W[l]!;
    const Kl = K[l]!;
    for (let k = 0; k < fin; k++) {
      for (let j = 0; j < fout; j++) {
        m[offKp[l]! + k * W[l + 1]! + j] = Kl[k * fout + j]!;
        m[offKT[l]! + j * N + k] = Kl[k * fout + j]!;
      }
    }
    m.set(b[l]!, offBp[l]!);
  }
  const silu = codes.map((c) => c === 'silu');
  const phi = codes.map((c) => activation(c, slope));
  const dphi = codes.map((c) => activationGrad(c, slope));
  const KL = K[L - 1]!;
  const bL = b[L - 1]![0]!;
  const last = sizes[L - 1]!;
  const WL = W[L - 1]!;
  const KLp = new Float32Array(WL);
  KLp.set(KL);

  /** Hidden layers of rows x[xo …] (n ≤ T): z, h (and σ for SiLU) in wasm memory. */
  const hidden = (x: Float32Array, xo: number, n: number) => {
    m.set(x.subarray(xo, xo + n * D), offX);
    const rows = Math.ceil(n / 4) * 4; // rows past n hold stale numbers; their results are never read
    for (const l of hiddenL) {
      const z = offZ[l]!;
      const h = offH[l]!;
      const A = l === 0 ? offX : offH[l - 1]!;
      gemm.gemm(4 * A, W[l]!, 4 * offKp[l]!, W[l + 1]!, 4 * z, rows, 4 * offBp[l]!);
      const end = n * W[l + 1]!;
      if (silu[l]) gemm.silu(4 * z, 4 * h, 4 * offS[l]!, 4 * rows * W[l + 1]!);
      else {
        const f = phi[l]!;
        for (let i = 0; i < end; i++) m[h + i] = f(m[z + i]!);
      }
    }
  };
  return {
    kind: MLP_KIND,
    grad(x, xo, g, go, n0) {
      for (let t0 = 0; t0 < n0; t0 += T) {
        const n = Math.min(T, n0 - t0);
        const rows = Math.ceil(n / 4) * 4;
        hidden(x, xo + t0 * D, n);
        // dE/dh_{L−2} = K_{L−1}[:, 0] per row, then back through the hidden layers.
        let up = offD1;
        let down = offD2;
        for (let r = 0; r < n; r++) m.set(KLp, up + r * WL);
        for (let l = L - 2; l >= 0; l--) {
          const fout = W[l + 1]!;
          const z = offZ[l]!;
          const end = n * fout;
          if (silu[l]) gemm.siluBack(4 * up, 4 * z, 4 * offS[l]!, 4 * rows * fout);
          else {
            const h = offH[l]!;
            const df = dphi[l]!;
            for (let i = 0; i < end; i++) m[up + i] = m[up + i]! * df(m[z + i]!, m[h + i]!);
          }
          const target = l === 0 ? offG : down;
          gemm.gemm(4 * up, fout, 4 * offKT[l]!, l === 0 ? DP : W[l]!, 4 * target, rows, -1);
          const tmp = up;
          up = down;
          down = tmp;
        }
        if (DP === D) g.set(m.subarray(offG, offG + n * D), go + t0 * D);
        else {
          for (let r = 0; r < n; r++) {
            g.set(m.subarray(offG + r * DP, offG + r * DP + D), go + (t0 + r) * D);
          }
        }
      }
    },
    energy(x, xo, e, eo, n0) {
      for (let t0 = 0; t0 < n0; t0 += T) {
        const n = Math.min(T, n0 - t0);
        hidden(x, xo + t0 * D, n);
        const h = offH[L - 2]!;
        for (let r = 0; r < n; r++) {
          let s = bL;
          for (let k = 0; k < last; k++) s += m[h + r * WL + k]! * KL[k]!;
          e[eo + t0 + r] = s;
        }
      }
    },
  };
}
