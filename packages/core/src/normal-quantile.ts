// Acklam's rational approximation of the standard-normal quantile (relative error < 1.15e-9), shared by the
// RNG's inverse-CDF normals and the diagnostics' rank normalisation. Internal module.

const A1 = -39.69683028665376;
const A2 = 220.9460984245205;
const A3 = -275.9285104469687;
const A4 = 138.357751867269;
const A5 = -30.66479806614716;
const A6 = 2.506628277459239;
const B1 = -54.47609879822406;
const B2 = 161.5858368580409;
const B3 = -155.6989798598866;
const B4 = 66.80131188771972;
const B5 = -13.28068155288572;
const C1 = -0.007784894002430293;
const C2 = -0.3223964580411365;
const C3 = -2.400758277161838;
const C4 = -2.549732539343734;
const C5 = 4.374664141464968;
const C6 = 2.938163982698783;
const D1 = 0.007784695709041462;
const D2 = 0.3224671290700398;
const D3 = 2.445134137142996;
const D4 = 3.754408661907416;
const P_LOW = 0.02425;

/** Φ⁻¹(p) for p ∈ (0, 0.5] (the lower half; use symmetry for the upper half). */
export function lowerNormalQuantile(p: number): number {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((C1 * q + C2) * q + C3) * q + C4) * q + C5) * q + C6) /
      ((((D1 * q + D2) * q + D3) * q + D4) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((A1 * r + A2) * r + A3) * r + A4) * r + A5) * r + A6) * q) /
    (((((B1 * r + B2) * r + B3) * r + B4) * r + B5) * r + 1)
  );
}
