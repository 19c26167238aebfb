/**
 * WGSL building blocks: Philox4x32-10 with the counter layout of `@ebm/core`'s RNG, and its uniform and normal
 * conversions. WGSL has no 64-bit integers, so the 32×32→64-bit products are assembled from 16-bit limbs.
 * Internal module.
 */

/**
 * `ebmMulHiLo(a, b)` → `(hi, lo)` of the 64-bit product; `ebmPhilox(counter, key)` → one Philox4x32-10 block.
 */
export const PHILOX_WGSL = /* wgsl */ `
fn ebmMulHiLo(a : u32, b : u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  // a·b = a1b1·2³² + (a0b1 + a1b0)·2¹⁶ + a0b0. t and u stay below 2³² (at most (2¹⁶−1)² + 2¹⁶ − 1), and
  // a·b = (a1b1 + ⌊t/2¹⁶⌋ + ⌊u/2¹⁶⌋)·2³² + (u mod 2¹⁶)·2¹⁶ + (a0b0 mod 2¹⁶): three multiply-adds for the high word.
  let t = a0 * b1 + ((a0 * b0) >> 16u);
  let u = a1 * b0 + (t & 0xffffu);
  let hi = a1 * b1 + (t >> 16u) + (u >> 16u);
  return vec2<u32>(hi, a * b);
}

fn ebmPhilox(counter : vec4<u32>, key : vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0; round < 10; round++) {
    let m0 = ebmMulHiLo(0xd2511f53u, c.x);
    let m1 = ebmMulHiLo(0xcd9e8d57u, c.z);
    c = vec4<u32>(m1.x ^ c.y ^ k.x, m1.y, m0.x ^ c.w ^ k.y, m0.y);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}
`;

/**
 * `ebmBitsToUniform(u)`: core's `bitsToUniform`, `(2⌊u/2⁹⌋ + 1)·2⁻²⁴` — an odd integer below 2²⁴ times a power of
 * two, exact in float32, so it is bit-identical to the host whatever the device's float rounding.
 */
export const UNIFORM_WGSL = /* wgsl */ `
fn ebmBitsToUniform(u : u32) -> f32 {
  return f32(2u * (u >> 9u) + 1u) * 5.9604644775390625e-8;
}
`;

/**
 * `ebmBitsToNormal(u)`: core's `bitsToNormal`, the inverse normal CDF of `(u + ½)·2⁻³²` by Acklam's rational
 * approximation, symmetric around 2³¹ (so both tails keep 32-bit resolution), evaluated in float32.
 */
export const NORMAL_WGSL = /* wgsl */ `
fn ebmLowerQuantileTail(p : f32) -> f32 {
  let q = sqrt(-2.0 * log(p));
  return (((((-0.007784894002430293 * q - 0.3223964580411365) * q - 2.400758277161838) * q
      - 2.549732539343734) * q + 4.374664141464968) * q + 2.938163982698783)
    / ((((0.007784695709041462 * q + 0.3224671290700398) * q + 2.445134137142996) * q
      + 3.754408661907416) * q + 1.0);
}

fn ebmLowerQuantileCentral(q : f32) -> f32 {
  // Acklam's central rational num(r)/den(r), r = q², written as products over the real roots of num and den
  // (all outside the range r ∈ [0, 0.2264] used here): Horner's form loses ~4 digits to cancellation in
  // float32 near |q| = 0.4757, the factored form is accurate to a few ulp.
  let r = q * q;
  let num = (r - 4.050984980934811) * (r - 0.6353590484602296) * (r - 0.34800255128107377)
    * (r - 0.2768539791445508) * (r - 0.2546367332088459);
  let den = (r - 1.6056499114419955) * (r - 0.5095656108263285) * (r - 0.3258703616432124)
    * (r - 0.2715739763407426) * (r - 0.2535187102166747);
  return 0.7287017822933365 * q * (num / den);
}

fn ebmBitsToNormal(u : u32) -> f32 {
  let lower = u < 0x80000000u;
  // v ∈ [0, 2³¹): p = (v + ½)·2⁻³² ∈ (0, ½) is the lower-tail probability.
  let v = select(0xffffffffu - u, u, lower);
  var z : f32;
  if (v < 104152957u) {
    // p < 0.02425
    z = ebmLowerQuantileTail((f32(v) + 0.5) * 2.3283064365386963e-10);
  } else {
    // q = p − ½ = −(2³¹ − v − ½)·2⁻³², computed from the exact integer 2³¹ − v.
    z = ebmLowerQuantileCentral(-(f32(0x80000000u - v) - 0.5) * 2.3283064365386963e-10);
  }
  return select(-z, z, lower);
}
`;

/**
 * `ebmBitsToNormalSelect(u)`: the same float32 value as `ebmBitsToNormal(u)` (the same operations on the same
 * operands), without a branch: both rational forms are evaluated, their numerators and denominators selected,
 * and one division shared — so a warp whose lanes fall on both sides of the tail threshold (most warps: the
 * tail has probability 0.0485 per normal) runs one path of straight-line code instead of both sides of a branch.
 * Tail: z = num_t(q_t) / den_t(q_t), q_t = √(−2 ln p); central: z = 0.7287… · q · (num_c(r) / den_c(r)),
 * r = q². Requires nothing else; used by the separable whole-chain program's `select` variant.
 */
export const NORMAL_SELECT_WGSL = /* wgsl */ `
fn ebmBitsToNormalSelect(u : u32) -> f32 {
  let lower = u < 0x80000000u;
  let v = select(0xffffffffu - u, u, lower);
  let tail = v < 104152957u;
  let qt = sqrt(-2.0 * log((f32(v) + 0.5) * 2.3283064365386963e-10));
  let nt = ((((-0.007784894002430293 * qt - 0.3223964580411365) * qt - 2.400758277161838) * qt
      - 2.549732539343734) * qt + 4.374664141464968) * qt + 2.938163982698783;
  let dt = (((0.007784695709041462 * qt + 0.3224671290700398) * qt + 2.445134137142996) * qt
      + 3.754408661907416) * qt + 1.0;
  let q = -(f32(0x80000000u - v) - 0.5) * 2.3283064365386963e-10;
  let r = q * q;
  let nc = (r - 4.050984980934811) * (r - 0.6353590484602296) * (r - 0.34800255128107377)
    * (r - 0.2768539791445508) * (r - 0.2546367332088459);
  let dc = (r - 1.6056499114419955) * (r - 0.5095656108263285) * (r - 0.3258703616432124)
    * (r - 0.2715739763407426) * (r - 0.2535187102166747);
  let ratio = select(nc, nt, tail) / select(dc, dt, tail);
  let z = select(0.7287017822933365 * q * ratio, ratio, tail);
  return select(-z, z, lower);
}
`;
