/**
 * The filler `normalArray` (rng.ts) uses for large draws: the fused CPU kernels' WebAssembly normals, installed by
 * `cpu/kernels.ts` when `@ebm/core` loads. It lives outside rng.ts so that entry points without the CPU kernels
 * (`@ebm/core/testing`) do not carry the wasm assembler, and outside the public API. Internal module.
 * @module
 */

/**
 * Fills `out` with elements 0 … n − 1 of the standard-normal stream of key (k0, k1) — exactly the numbers of rng.ts's
 * JavaScript path — or returns false (nothing written) where it cannot.
 */
export type LargeNormalFiller = (k0: number, k1: number, n: number, out: Float32Array) => boolean;

/** The installed filler (`fill`: `undefined` for none). */
export const largeNormals: { fill: LargeNormalFiller | undefined } = { fill: undefined };
