/**
 * WGSL fragments for the chain states of the whole-chain MLP Langevin programs (the cooperative `mlp-coop.ts` and
 * the register-tiled `mlp-tile.ts`): a workgroup runs `chains` chains of dimension `d` with `threads` threads,
 * and keeps its `chains · d` state elements in registers as Philox quads — thread `tid` owns quads
 * `q = tid + qi · threads` (`qi` < `quads`), quad `q` being the four flat elements `e = 4q..4q+3` of the
 * workgroup's rows, i.e. Philox block `(c0 · d) / 4 + q` of the batch in `@ebm/core`'s layout (`c0` the
 * workgroup's first chain). Each fragment is emitted at the indentation both programs use (2 spaces in `main`,
 * 4 inside the step loop). The fragments expect `tid`, `c0`, the inputs `X` and `K` (and `S` with per-step noise),
 * and `PHILOX_WGSL` / `NORMAL_WGSL` in the program. Internal module.
 * @module
 */

/** How a workgroup's chain states map onto threads: `quads` vec4 registers `xr` per thread. */
export interface ChainQuads {
  /** Chains per workgroup. */
  readonly chains: number;
  /** Threads per workgroup. */
  readonly threads: number;
  /** State dimension. */
  readonly d: number;
  /** Quads (vec4 registers) per thread: ⌈chains · d / 4 / threads⌉. */
  readonly quads: number;
}

/** The quads of `chains` chains of dimension `d` over `threads` threads. */
export function chainQuads(chains: number, threads: number, d: number): ChainQuads {
  return { chains, threads, d, quads: Math.ceil((chains * d) / 4 / threads) };
}

/** Prefixes every line of `lines` with `pad`. */
function indent(lines: readonly string[], pad: string): string {
  return lines.map((s) => `${pad}${s}`).join('\n');
}

/** A loop over the elements `e` of the thread's quads (`qi`, `q`, `l` in scope), `body` inside, at `pad`. */
function quadLoop(g: ChainQuads, pad: string, body: readonly string[]): string {
  return `${pad}for (var qi = 0; qi < ${g.quads}; qi++) {
${pad}  let q = tid + qi * ${g.threads};
${pad}  for (var l = 0; l < 4; l++) {
${pad}    let e = 4 * q + l;
${indent(body, `${pad}    `)}
${pad}  }
${pad}}`;
}

/** `body` guarded to the elements of existing chains (e < chains · d and chain c0 + ⌊e / d⌋ < nChains). */
function existingChains(g: ChainQuads, body: readonly string[]): string[] {
  return [
    `let chain = c0 + e / ${g.d};`,
    `if (e < ${g.chains * g.d} && chain < uniforms.nChains) {`,
    ...body.map((s) => `  ${s}`),
    '}',
  ];
}

/** WGSL index of element `e` in a `[k][chain]` workgroup array: `(e mod d) · chains + ⌊e / d⌋`. */
export function transposedIndex(g: ChainQuads): string {
  return `(e % ${g.d}) * ${g.chains} + e / ${g.d}`;
}

/**
 * Declares the registers `xr` and loads the workgroup's states from `X` (row-major `[chain][k]`) into them; zero
 * for chains past `nChains` when `transposed` is given, and then also writes every element to the workgroup
 * array `transposed` as `[k][chain]` ({@link transposedIndex}).
 */
export function loadStates(g: ChainQuads, transposed?: string): string {
  const x = `X[c0 * ${g.d} + e]`;
  const body =
    transposed === undefined
      ? existingChains(g, [`xr[qi][l] = ${x};`])
      : [
          `let chain = c0 + e / ${g.d};`,
          'var v = 0.0;',
          `if (e < ${g.chains * g.d} && chain < uniforms.nChains) {`,
          `  v = ${x};`,
          '}',
          'xr[qi][l] = v;',
          `if (e < ${g.chains * g.d}) {`,
          `  ${transposed}[${transposedIndex(g)}] = v;`,
          '}',
        ];
  return `  var xr : array<vec4<f32>, ${g.quads}>;\n${quadLoop(g, '  ', body)}`;
}

/** Copies the registers to the workgroup array `dst`, row-major `[chain][k]` with row stride `stride` (step loop). */
export function scatterStates(g: ChainQuads, dst: string, stride: number): string {
  return quadLoop(g, '    ', [
    `if (e < ${g.chains * g.d}) {`,
    `  ${dst}[(e / ${g.d}) * ${stride} + e % ${g.d}] = xr[qi][l];`,
    '}',
  ]);
}

/** Stores the registers of existing chains to `result` (row-major `[chain][k]`). */
export function storeStates(g: ChainQuads): string {
  return quadLoop(g, '  ', existingChains(g, [`result[c0 * ${g.d} + e] = xr[qi][l];`]));
}

/**
 * Opens the step loop (`for t`, closed by the program) with step t's Philox key `key` = (K[2s], K[2s + 1]) and its
 * noise amplitude `amp`, s = stepOffset + t: `uniforms.amp`, or `S[s]` with `perStepNoise` (a_t = σ_t√(2h)).
 */
export function stepHeader(perStepNoise: boolean): string {
  return `  for (var t = 0; t < uniforms.nSteps; t++) {
    let s2 = 2 * (uniforms.stepOffset + t);
    let key = vec2<u32>(bitcast<u32>(K[s2]), bitcast<u32>(K[s2 + 1]));
    let amp = ${perStepNoise ? 'S[uniforms.stepOffset + t]' : 'uniforms.amp'};`;
}

/** Where the Langevin update reads ∇ₓE of element `e` (quad `q`, lane `l`). */
export interface GradientSource {
  /** Statements before the update (e.g. an index `let`). */
  readonly before?: readonly string[];
  /** WGSL expression of ∂E/∂x_e. */
  readonly grad: string;
  /** Statements after the update (e.g. writing the new state back to workgroup memory). */
  readonly after?: readonly string[];
  /** Whether to skip elements e ≥ chains · d (needed when chains · d is not a multiple of 4). */
  readonly guard: boolean;
}

/**
 * The Euler–Maruyama Langevin update of the registers, then a barrier:
 * xₑ ← xₑ − h · ∂E/∂xₑ + a · ξₑ, with ξ = `ebmBitsToNormal` of the Philox4x32-10 block
 * `ebmPhilox((c0 · d / 4 + q, 0, 0, 0), key)` (lane l for element 4q + l: core's layout, so the noise is the
 * host's) and a = `amp` (σ√(2h), or σ_t√(2h) per step); h = `uniforms.h`.
 */
export function langevinUpdate(g: ChainQuads, src: GradientSource): string {
  const update = [
    ...(src.before ?? []),
    `xr[qi][l] = xr[qi][l] - uniforms.h * ${src.grad} + amp * ebmBitsToNormal(w[l]);`,
    ...(src.after ?? []),
  ];
  const body = src.guard ? [`if (e < ${g.chains * g.d}) {`, ...update.map((s) => `  ${s}`), '}'] : update;
  return `    for (var qi = 0; qi < ${g.quads}; qi++) {
      let q = tid + qi * ${g.threads};
      if (4 * q < ${g.chains * g.d}) {
        let w = ebmPhilox(vec4<u32>(u32((c0 * ${g.d}) / 4 + q), 0u, 0u, 0u), key);
        for (var l = 0; l < 4; l++) {
          let e = 4 * q + l;
${indent(body, '          ')}
        }
      }
    }
    workgroupBarrier();`;
}
