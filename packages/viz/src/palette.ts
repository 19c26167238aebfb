/** The Tableau 10 categorical palette, used for chains and metrics (cycled past ten). */
export const TABLEAU10: readonly string[] = [
  '#4e79a7',
  '#f28e2c',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc949',
  '#af7aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ab',
];

/** Colour of category `i` (cycles through {@link TABLEAU10}). */
export function categoryColor(i: number): string {
  return TABLEAU10[((i % TABLEAU10.length) + TABLEAU10.length) % TABLEAU10.length]!;
}

/** Indices `0, s, 2s, …` plus the last, with stride `s = ceil(n / maxPoints)` (all indices when n ≤ maxPoints). */
export function thinIndices(n: number, maxPoints: number): number[] {
  const s = Math.max(1, Math.ceil(n / maxPoints));
  const out: number[] = [];
  for (let i = 0; i < n; i += s) out.push(i);
  if (out[out.length - 1] !== n - 1) out.push(n - 1);
  return out;
}
