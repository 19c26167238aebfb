// Timing helpers of gpu-compare.mjs and its section files (floor-sections.mjs, chain-sections.mjs,
// flow-sections.mjs, …; bundled with them): the loop that times an awaited call after warm-up calls, and the
// rows of its spread. New sections: `const time = timeRows({ emit, meta, reps })`, then
// `await time('label', async (k) => { … })` emits one row per label.

/** Quantile q of an ascending list, linear between neighbours (NaN for an empty list). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/** Median of a list in any order (the mean of the two middle values for an even count). */
export function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank quantile q of a list in any order. */
function nearestRank(a, q) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/** Median and spread of a list of ms: median, min, max, nearest-rank p10/p90, n, the list (0.01 ms). */
export function spread(ms) {
  return {
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    p10Ms: nearestRank(ms, 0.1),
    p90Ms: nearestRank(ms, 0.9),
    n: ms.length,
    ms: ms.map((v) => Math.round(v * 100) / 100),
  };
}

/** Median, quartiles (linear), min, max and n of a list of ms. */
export function quartiles(ms) {
  const s = [...ms].sort((a, b) => a - b);
  return {
    medianMs: quantile(s, 0.5),
    p25Ms: quantile(s, 0.25),
    p75Ms: quantile(s, 0.75),
    minMs: s[0],
    maxMs: s[s.length - 1],
    n: ms.length,
  };
}

/**
 * Times `f` (awaited): `warm` untimed calls f(warmArg(w)), then `reps` timed calls f(arg(k)), each from just
 * before the call to its settling. With `inner`, a call that returns a number counts that many ms instead (the
 * part of f to count, its own set-up excluded). Returns the ms of the timed calls, in order.
 */
export async function timeCalls(f, { warm = 0, reps, warmArg = (w) => w, arg = (k) => k, inner = false }) {
  for (let w = 0; w < warm; w++) await f(warmArg(w));
  const ms = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    const out = await f(arg(k));
    ms.push(inner && typeof out === 'number' ? out : performance.now() - t0);
  }
  return ms;
}

/**
 * A section's row timer: `time(label, f, extra = {})` runs {@link timeCalls} (options as there, default 5
 * warm-up calls), then emits and returns one row `{ side: 'ebm', ...meta, ...extra, path: label,
 * ...quartiles(ms) }`, with the list of ms (0.001 ms) when `keepMs`, and pushes it to `rows` when given.
 */
export function timeRows({ emit, meta = {}, reps, warm = 5, warmArg, arg, inner, keepMs = false, rows }) {
  return async (label, f, extra = {}) => {
    const ms = await timeCalls(f, { warm, reps, warmArg, arg, inner });
    const row = {
      side: 'ebm',
      ...meta,
      ...extra,
      path: label,
      ...quartiles(ms),
      ...(keepMs ? { ms: ms.map((v) => Math.round(v * 1000) / 1000) } : {}),
    };
    emit(row);
    rows?.push(row);
    return row;
  };
}
