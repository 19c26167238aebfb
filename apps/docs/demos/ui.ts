/** Small DOM and drawing helpers shared by the demos (no framework). */

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string> = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

/** A labelled `<select>` from `{ value: label }`. */
export function select(name: string, label: string, options: Record<string, string>, value: string) {
  const s = el('select', { name, 'aria-label': label });
  for (const [v, l] of Object.entries(options)) s.append(el('option', { value: v, text: l }));
  s.value = value;
  return { field: el('label', {}, [`${label} `, s]), input: s };
}

/** A labelled number `<input>`. */
export function numberInput(name: string, label: string, value: number, attrs: Record<string, string> = {}) {
  const i = el('input', { name, type: 'number', 'aria-label': label, ...attrs });
  i.value = String(value);
  return { field: el('label', {}, [`${label} `, i]), input: i };
}

/** Reads a finite number from an input, else `fallback`, clamped to [lo, hi]. */
export function readNumber(i: HTMLInputElement, fallback: number, lo: number, hi: number): number {
  const v = Number(i.value);
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
}

/** Five-stop perceptual palette (viridis-like), t in [0, 1]. */
const STOPS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];
export function palette(t: number): [number, number, number] {
  const u = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(u));
  const f = u - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [a[0]! + f * (b[0]! - a[0]!), a[1]! + f * (b[1]! - a[1]!), a[2]! + f * (b[2]! - a[2]!)];
}

/**
 * An energy grid (row-major, `values[j * nx + i]` at x_i, y_j, y increasing upwards) as an image: low energy
 * bright. Energies above the 90th percentile of E − min E saturate, so a steep wall does not wash out the wells.
 */
export function heatmapImage(values: ArrayLike<number>, nx: number, ny: number): ImageData {
  let min = Number.POSITIVE_INFINITY;
  for (let k = 0; k < values.length; k++) if (Number.isFinite(values[k]!)) min = Math.min(min, values[k]!);
  const sorted = Array.from(values, (v) => (Number.isFinite(v) ? v - min : Number.POSITIVE_INFINITY)).sort(
    (a, b) => a - b,
  );
  const top = Math.max(1e-9, sorted[Math.floor(0.9 * (sorted.length - 1))]!);
  const img = new ImageData(nx, ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const v = values[j * nx + i]!;
      const [r, g, b] = palette(1 - Math.sqrt(Math.min(1, Number.isFinite(v) ? (v - min) / top : 1)));
      const o = 4 * ((ny - 1 - j) * nx + i);
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }
  }
  return img;
}

/** Formats a diagnostic for the panel. */
export function fmt(v: number | undefined, digits = 3): string {
  return v === undefined || Number.isNaN(v) ? '–' : Number.isFinite(v) ? v.toFixed(digits) : String(v);
}
