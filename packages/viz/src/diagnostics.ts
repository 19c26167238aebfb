import { assertKnownOptions, assertPositive, autocorrelation, splitRhatEss } from '@ebm/core';
import * as Plot from '@observablehq/plot';
import { type ChainsInput, checkInt, checkSize, invalid, toChains } from './data.js';
import { combineFigures, type Figure, type PlotPanel, type TextItem, TITLE_BAND } from './figure.js';
import { MARGINS } from './landscape.js';
import { VIZ_OPTION_KEYS } from './option-keys.js';
import { categoryColor, thinIndices } from './palette.js';

/** Common options of the diagnostic plots. */
export interface DiagnosticPlotOptions {
  /** Name of the quantity (default `'θ'`), used in titles and labels. */
  readonly name?: string;
  readonly title?: string;
  /** Figure width in pixels (default 640). */
  readonly width?: number;
  /** Figure height in pixels (default 300). */
  readonly height?: number;
}

function legendTexts(m: number, width: number): TextItem[] {
  if (m > 12)
    return [
      {
        x: width - MARGINS.marginRight,
        y: TITLE_BAND + 4,
        text: `${m} chains`,
        size: 11,
        anchor: 'end',
        color: '#555',
      },
    ];
  const out: TextItem[] = [];
  let x = width - MARGINS.marginRight;
  for (let c = m - 1; c >= 0; c--) {
    const t = `— chain ${c}`;
    out.push({ x, y: TITLE_BAND + 4, text: t, size: 10, anchor: 'end', color: categoryColor(c) });
    x -= 8 + 6 * t.length;
  }
  return out;
}

function singlePanel(width: number, height: number, options: PlotPanel['options']): PlotPanel {
  return {
    type: 'plot',
    x: 0,
    y: TITLE_BAND + 10,
    options: { ...MARGINS, ...options, width, height: height - TITLE_BAND - 10 },
  };
}

/** Options of {@link plotTrace}. */
export interface TraceOptions extends DiagnosticPlotOptions {
  /** Chains are thinned to at most this many points for drawing (default 3000). */
  readonly maxPoints?: number;
}

/**
 * Trace plot: the draws of each chain against the iteration, one colour per chain. Well-mixed chains overlap
 * as a "hairy caterpillar"; stuck or drifting chains stand out.
 */
export async function plotTrace(chains: ChainsInput, options: TraceOptions = {}): Promise<Figure> {
  assertKnownOptions('plotTrace', options, VIZ_OPTION_KEYS.trace);
  const cs = await toChains('chains', chains, 1);
  const width = checkSize('width', options.width ?? 640, 200);
  const height = checkSize('height', options.height ?? 300, 120);
  const keep = thinIndices(cs[0]!.length, checkInt('maxPoints', options.maxPoints ?? 3000, 2, 1e7));
  const name = options.name ?? 'θ';
  const marks: Plot.Markish[] = cs.map((c, k) =>
    Plot.line(
      keep.map((i) => ({ i, v: c[i]! })),
      { x: 'i', y: 'v', stroke: categoryColor(k), strokeWidth: 0.9, strokeOpacity: 0.8 },
    ),
  );
  return {
    kind: 'trace',
    title: options.title ?? `Trace of ${name}`,
    width,
    height,
    panels: [
      singlePanel(width, height, {
        width,
        height,
        x: { label: 'iteration', domain: [0, Math.max(1, cs[0]!.length - 1)] },
        y: { label: name, grid: true, nice: true },
        marks: [...marks, Plot.frame({ stroke: '#999' })],
      }),
    ],
    texts: legendTexts(cs.length, width),
    data: { chains: cs.length, draws: cs[0]!.length },
  };
}

/** Options of {@link plotAutocorrelation}. */
export interface AutocorrelationOptions extends DiagnosticPlotOptions {
  /** Largest lag shown (default min(100, draws − 1)). */
  readonly maxLag?: number;
}

/**
 * Autocorrelation ρ(t) of each chain against the lag (core's FFT `autocorrelation`), with the ±1.96/√n band
 * of white noise. Slowly decaying curves mean few effective samples.
 */
export async function plotAutocorrelation(
  chains: ChainsInput,
  options: AutocorrelationOptions = {},
): Promise<Figure> {
  assertKnownOptions('plotAutocorrelation', options, VIZ_OPTION_KEYS.autocorrelation);
  const cs = await toChains('chains', chains, 2);
  const n = cs[0]!.length;
  const width = checkSize('width', options.width ?? 640, 200);
  const height = checkSize('height', options.height ?? 300, 120);
  const maxLag = checkInt('maxLag', options.maxLag ?? Math.min(100, n - 1), 1, n - 1);
  const name = options.name ?? 'θ';
  const acfs = cs.map((c) => Array.from(autocorrelation(c, maxLag)));
  const band = 1.96 / Math.sqrt(n);
  const marks: Plot.Markish[] = [
    Plot.areaY([0, maxLag], { x: (d: number) => d, y1: -band, y2: band, fill: '#bbb', fillOpacity: 0.35 }),
    Plot.ruleY([0], { stroke: '#444' }),
    ...acfs.map((a, k) =>
      Plot.line(
        a.map((v, t) => ({ t, v })),
        { x: 't', y: 'v', stroke: categoryColor(k), strokeWidth: 1.2 },
      ),
    ),
  ];
  return {
    kind: 'autocorrelation',
    title: options.title ?? `Autocorrelation of ${name}`,
    width,
    height,
    panels: [
      singlePanel(width, height, {
        width,
        height,
        x: { label: 'lag', domain: [0, maxLag] },
        y: { label: 'ρ(lag)', domain: [Math.min(-0.2, ...acfs.flat()), 1.05], grid: true },
        marks: [...marks, Plot.frame({ stroke: '#999' })],
      }),
    ],
    texts: legendTexts(cs.length, width),
    data: { acf: acfs, maxLag, whiteNoiseBand: band },
  };
}

/** Options of {@link plotRanks}. */
export interface RankPlotOptions extends DiagnosticPlotOptions {
  /** Histogram bins of the ranks (default 20). */
  readonly bins?: number;
  /** Panels per row (default 4). */
  readonly columns?: number;
}

/** Ranks (1..S, average ties) of all draws pooled over chains, returned per chain. */
export function poolRanks(chains: readonly ArrayLike<number>[]): Float64Array[] {
  if (
    !Array.isArray(chains) ||
    chains.some((c) => c === null || typeof (c as ArrayLike<number>).length !== 'number')
  ) {
    throw invalid(
      'chains',
      'chains must be an array of number arrays.',
      typeof chains,
      'pass one array of draws per chain.',
    );
  }
  const m = chains.length;
  const n = chains[0]?.length ?? 0;
  const S = m * n;
  const flat = new Float64Array(S);
  chains.forEach((c, k) => {
    for (let i = 0; i < n; i++) flat[k * n + i] = c[i]!;
  });
  const order = Array.from({ length: S }, (_, i) => i).sort((a, b) => flat[a]! - flat[b]!);
  const ranks = new Float64Array(S);
  for (let i = 0; i < S; ) {
    let j = i;
    while (j + 1 < S && flat[order[j + 1]!] === flat[order[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return Array.from({ length: m }, (_, k) => ranks.slice(k * n, (k + 1) * n));
}

/**
 * Rank plots (Vehtari et al. 2021): all draws are ranked jointly, and each chain's ranks are histogrammed.
 * Chains that sample the same distribution give flat histograms around the dashed uniform level.
 */
export async function plotRanks(chains: ChainsInput, options: RankPlotOptions = {}): Promise<Figure> {
  assertKnownOptions('plotRanks', options, VIZ_OPTION_KEYS.ranks);
  const cs = await toChains('chains', chains, 2);
  const m = cs.length;
  const n = cs[0]!.length;
  const bins = checkInt('bins', options.bins ?? 20, 2, Math.max(2, m * n));
  const columns = Math.min(m, checkInt('columns', options.columns ?? 4, 1, 64));
  const rows = Math.ceil(m / columns);
  const width = checkSize('width', options.width ?? 640, 200);
  const cellW = width / columns;
  const cellH = 150;
  const S = m * n;
  const ranks = poolRanks(cs);
  const counts = ranks.map((r) => {
    const h = new Array<number>(bins).fill(0);
    for (const v of r) h[Math.min(bins - 1, Math.floor(((v - 1) / S) * bins))]! += 1;
    return h;
  });
  const expected = n / bins;
  const ymax = Math.max(...counts.flat(), expected * 1.5);
  const panels: PlotPanel[] = [];
  const texts: TextItem[] = [];
  counts.forEach((h, k) => {
    const x0 = (k % columns) * cellW;
    const y0 = TITLE_BAND + Math.floor(k / columns) * (cellH + 20);
    texts.push({
      x: x0 + cellW / 2 + 14,
      y: y0 + 14,
      text: `chain ${k}`,
      size: 11,
      anchor: 'middle',
      color: categoryColor(k),
      bold: true,
    });
    panels.push({
      type: 'plot',
      x: x0,
      y: y0 + 18,
      options: {
        marginLeft: 40,
        marginRight: 8,
        marginTop: 6,
        marginBottom: 30,
        width: cellW,
        height: cellH,
        x: { domain: [0, S], label: 'rank', ticks: 2, tickFormat: '~s' },
        y: { domain: [0, ymax], label: null, ticks: 3, grid: true },
        marks: [
          Plot.rectY(h, {
            x1: (_d: number, i: number) => (i * S) / bins,
            x2: (_d: number, i: number) => ((i + 1) * S) / bins,
            y: (d: number) => d,
            fill: categoryColor(k),
            fillOpacity: 0.85,
            insetLeft: 0.5,
          }),
          Plot.ruleY([expected], { stroke: '#222', strokeDasharray: '4,3' }),
          Plot.frame({ stroke: '#999' }),
        ],
      },
    });
  });
  return {
    kind: 'rank',
    title: options.title ?? `Rank plots of ${options.name ?? 'θ'}`,
    width,
    height: TITLE_BAND + rows * (cellH + 20) + 4,
    panels,
    texts,
    data: { counts, expected, bins },
  };
}

/** One row of the R̂ / ESS table. */
export interface DiagnosticsRow {
  readonly name: string;
  readonly mean: number;
  readonly sd: number;
  readonly rhat: number;
  readonly essBulk: number;
  readonly essTail: number;
}

/** Options of {@link plotDiagnosticsTable}. */
export interface DiagnosticsTableOptions {
  readonly title?: string;
  /** Figure width in pixels (default 640). */
  readonly width?: number;
  /** R̂ above this is flagged (default 1.01, Vehtari et al. 2021). */
  readonly rhatThreshold?: number;
  /** ESS below this is flagged (default 100 per chain). */
  readonly minEss?: number;
}

const GOOD = '#d9f0d3';
const BAD = '#fcbba1';
const NEUTRAL = '#f4f4f4';

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return v.toFixed(a >= 100 ? 0 : 3);
}

function fmtEss(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return v >= 10 ? v.toFixed(0) : v.toFixed(1);
}

/**
 * A table of MCMC diagnostics, one row per quantity: mean, sd, rank-normalised split-R̂ and bulk/tail ESS
 * (core's `splitRhatEss`). R̂ cells above `rhatThreshold` and ESS cells below `minEss` are red, others green.
 * Each quantity needs ≥ 4 draws per chain; R̂ needs ≥ 2 chains after splitting (one chain is enough).
 */
export async function plotDiagnosticsTable(
  quantities: Readonly<Record<string, ChainsInput>>,
  options: DiagnosticsTableOptions = {},
): Promise<Figure> {
  assertKnownOptions('plotDiagnosticsTable', options, VIZ_OPTION_KEYS.diagnosticsTable);
  if (quantities === null || typeof quantities !== 'object' || Object.keys(quantities).length === 0) {
    throw invalid(
      'quantities',
      'quantities is empty.',
      quantities,
      'pass e.g. { x1: chainsOfX1, energy: chainsOfE }.',
    );
  }
  const width = checkSize('width', options.width ?? 640, 300);
  const rhatMax = assertPositive('rhatThreshold', options.rhatThreshold ?? 1.01);
  if (options.minEss !== undefined) assertPositive('minEss', options.minEss);
  const rows: DiagnosticsRow[] = [];
  let m = 1;
  for (const [name, ch] of Object.entries(quantities)) {
    const cs = await toChains(`quantities.${name}`, ch, 4);
    m = cs.length;
    let s = 0;
    let s2 = 0;
    let N = 0;
    for (const c of cs) {
      for (const v of c) {
        s += v;
        s2 += v * v;
        N++;
      }
    }
    const mean = s / N;
    const sd = Math.sqrt(Math.max(0, (s2 - N * mean * mean) / Math.max(1, N - 1)));
    const r = splitRhatEss(cs);
    rows.push({ name, mean, sd, rhat: r.rhat, essBulk: r.essBulk, essTail: r.essTail });
  }
  const minEss = options.minEss ?? 100 * m;
  const columns = ['mean', 'sd', 'R̂', 'ESS bulk', 'ESS tail'];
  const cells: { row: string; col: string; text: string; fill: string }[] = [];
  for (const r of rows) {
    const ok = (v: number, good: boolean) => (Number.isFinite(v) && good ? GOOD : BAD);
    cells.push({ row: r.name, col: 'mean', text: fmt(r.mean), fill: NEUTRAL });
    cells.push({ row: r.name, col: 'sd', text: fmt(r.sd), fill: NEUTRAL });
    cells.push({ row: r.name, col: 'R̂', text: fmt(r.rhat), fill: ok(r.rhat, r.rhat <= rhatMax) });
    cells.push({
      row: r.name,
      col: 'ESS bulk',
      text: fmtEss(r.essBulk),
      fill: ok(r.essBulk, r.essBulk >= minEss),
    });
    cells.push({
      row: r.name,
      col: 'ESS tail',
      text: fmtEss(r.essTail),
      fill: ok(r.essTail, r.essTail >= minEss),
    });
  }
  const rowH = 28;
  const longest = Math.max(...rows.map((r) => r.name.length));
  const marginLeft = Math.min(260, 16 + 7 * longest);
  const plotH = rows.length * rowH + 30 + 10;
  return {
    kind: 'diagnosticsTable',
    title: options.title ?? 'MCMC diagnostics',
    width,
    height: TITLE_BAND + 16 + plotH + 20,
    panels: [
      {
        type: 'plot',
        x: 0,
        y: TITLE_BAND + 12,
        options: {
          marginLeft,
          marginRight: 10,
          marginTop: 30,
          marginBottom: 10,
          width,
          height: plotH,
          x: { domain: columns, axis: 'top', label: null, tickSize: 0, padding: 0.04 },
          y: { domain: rows.map((r) => r.name), label: null, tickSize: 0, padding: 0.08 },
          marks: [
            Plot.cell(cells, { x: 'col', y: 'row', fill: (d: { fill: string }) => d.fill, rx: 3 }),
            Plot.text(cells, { x: 'col', y: 'row', text: 'text', fontSize: 12, fill: '#111' }),
          ],
        },
      },
    ],
    texts: [
      {
        x: width / 2,
        y: TITLE_BAND + 16 + plotH + 12,
        text: `${m} chain${m === 1 ? '' : 's'} · flagged: R̂ > ${rhatMax} or ESS < ${minEss} (rank-normalised split-R̂, Vehtari et al. 2021)`,
        size: 10,
        anchor: 'middle',
        color: '#555',
      },
    ],
    data: { rows, minEss, rhatThreshold: rhatMax },
  };
}

/** Options of {@link plotMcmcDiagnostics}. */
export interface McmcDiagnosticsOptions extends DiagnosticPlotOptions {
  /** Largest autocorrelation lag (default min(100, draws − 1)). */
  readonly maxLag?: number;
  /** Rank-histogram bins (default 20). */
  readonly bins?: number;
}

/**
 * One sheet of MCMC diagnostics for a scalar quantity: trace, autocorrelation, rank plots and the R̂/ESS table
 * (needs ≥ 4 draws per chain).
 */
export async function plotMcmcDiagnostics(
  chains: ChainsInput,
  options: McmcDiagnosticsOptions = {},
): Promise<Figure> {
  assertKnownOptions('plotMcmcDiagnostics', options, VIZ_OPTION_KEYS.mcmcDiagnostics);
  const name = options.name ?? 'θ';
  const cs = await toChains('chains', chains, 4);
  const width = options.width ?? 640;
  const figs = [
    await plotTrace(cs, { name, width }),
    await plotAutocorrelation(cs, {
      name,
      width,
      ...(options.maxLag !== undefined ? { maxLag: options.maxLag } : {}),
    }),
    await plotRanks(cs, { name, width, ...(options.bins !== undefined ? { bins: options.bins } : {}) }),
    await plotDiagnosticsTable({ [name]: cs }, { width, title: 'R̂ and ESS' }),
  ];
  const sheet = combineFigures(figs, { title: options.title ?? `MCMC diagnostics of ${name}` });
  return { ...sheet, kind: 'mcmcDiagnostics' };
}
