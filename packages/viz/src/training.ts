import { assertKnownOptions, EbmError } from '@ebm/core';
import * as Plot from '@observablehq/plot';
import { type ChainsInput, checkInt, checkSize, invalid, type Series, toChains, toSeries } from './data.js';
import { type Figure, type PlotPanel, type TextItem, TITLE_BAND } from './figure.js';
import { MARGINS } from './landscape.js';
import { VIZ_OPTION_KEYS } from './option-keys.js';
import { categoryColor, thinIndices } from './palette.js';

/**
 * A training history: one record of metrics per logged step (`{ step?, loss, positiveEnergy, ... }`), or one
 * array per metric (`{ loss: [...], gradNorm: [...] }`). A `step` column, when present, is the x axis.
 */
export type TrainingHistory =
  | readonly Readonly<Record<string, number>>[]
  | Readonly<Record<string, ArrayLike<number>>>;

/** Options of {@link plotTrainingCurves}. */
export interface TrainingCurvesOptions {
  /**
   * Metric groups, one panel each, in order. Default: loss-like keys (`/loss/i`), energy-like keys
   * (`/energy|^e[+−-]|^e_?(pos|neg)/i`, e.g. E⁺ and E⁻), gradient-like keys (`/grad/i`), then the rest.
   */
  readonly groups?: readonly (readonly string[])[];
  /** Panel titles (default derived from the group). */
  readonly groupTitles?: readonly string[];
  /** Exponential-moving-average weight in [0, 1) drawn over the raw curve (default 0: none). */
  readonly smoothing?: number;
  /** Curves are thinned to at most this many points for drawing (default 4000). */
  readonly maxPoints?: number;
  readonly title?: string;
  /** Figure width in pixels (default 640). */
  readonly width?: number;
  /** Height of each panel in pixels (default 190). */
  readonly panelHeight?: number;
}

function toColumns(history: TrainingHistory): Map<string, Float64Array> {
  const cols = new Map<string, Float64Array>();
  if (Array.isArray(history)) {
    const recs = history as readonly Record<string, number>[];
    if (recs.length === 0) throw invalid('history', 'history is empty.', 0, 'log at least one step.');
    const keys = new Set<string>();
    for (const r of recs) for (const k of Object.keys(r ?? {})) keys.add(k);
    for (const k of keys) {
      cols.set(
        k,
        Float64Array.from(recs, (r) => {
          const v = r?.[k];
          return typeof v === 'number' ? v : Number.NaN;
        }),
      );
    }
  } else if (history !== null && typeof history === 'object') {
    for (const [k, v] of Object.entries(history as Record<string, ArrayLike<number>>)) {
      if (v === null || typeof v !== 'object' || typeof v.length !== 'number') {
        throw invalid(
          `history.${k}`,
          `history.${k} must be an array of numbers.`,
          typeof v,
          'pass one array per metric.',
        );
      }
      cols.set(k, Float64Array.from(v));
    }
  } else {
    throw invalid(
      'history',
      'history must be records or columns.',
      typeof history,
      'pass [{ loss, ... }, ...].',
    );
  }
  const lengths = [...cols.values()].map((c) => c.length);
  if (cols.size === 0 || lengths[0] === 0) {
    throw invalid('history', 'history holds no metrics.', [...cols.keys()], 'log at least one metric.');
  }
  if (lengths.some((n) => n !== lengths[0])) {
    throw new EbmError('SHAPE_MISMATCH', 'history: every metric must have one value per step.', {
      argument: 'history',
      value: Object.fromEntries([...cols].map(([k, c]) => [k, c.length])),
      fix: 'log every metric at every step (use NaN for a missing value).',
    });
  }
  return cols;
}

function ema(v: Float64Array, w: number): Float64Array {
  const out = new Float64Array(v.length);
  let acc = Number.NaN;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (Number.isFinite(x)) acc = Number.isFinite(acc) ? w * acc + (1 - w) * x : x;
    out[i] = acc;
  }
  return out;
}

function defaultGroups(keys: readonly string[]): { groups: string[][]; titles: string[] } {
  const loss = keys.filter((k) => /loss/i.test(k));
  const energy = keys.filter((k) => !loss.includes(k) && /energy|^e[+−-]|^e_?(pos|neg)/i.test(k));
  const grad = keys.filter((k) => !loss.includes(k) && !energy.includes(k) && /grad/i.test(k));
  const rest = keys.filter((k) => !loss.includes(k) && !energy.includes(k) && !grad.includes(k));
  const groups: string[][] = [];
  const titles: string[] = [];
  for (const [g, t] of [
    [loss, 'loss'],
    [energy, 'energies (E⁺ data, E⁻ samples)'],
    [grad, 'gradient norm'],
    [rest, 'other metrics'],
  ] as const) {
    if (g.length > 0) {
      groups.push([...g]);
      titles.push(t);
    }
  }
  return { groups, titles };
}

/**
 * Training curves: stacked panels sharing the step axis — loss, the energies of data and model samples (E⁺,
 * E⁻), the gradient norm and any other logged metric — each metric a coloured line named in the panel header,
 * with an optional EMA-smoothed overlay.
 *
 * @example
 * ```ts
 * const fig = await plotTrainingCurves(history); // history: [{ step, loss, positiveEnergy, negativeEnergy, gradNorm }, ...]
 * ```
 */
export async function plotTrainingCurves(
  history: TrainingHistory,
  options: TrainingCurvesOptions = {},
): Promise<Figure> {
  assertKnownOptions('plotTrainingCurves', options, VIZ_OPTION_KEYS.trainingCurves);
  const cols = toColumns(history);
  const width = checkSize('width', options.width ?? 640, 200);
  const panelHeight = checkSize('panelHeight', options.panelHeight ?? 190, 80);
  const maxPoints = checkInt('maxPoints', options.maxPoints ?? 4000, 2, 1e7);
  const smoothing = options.smoothing ?? 0;
  if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing < 1)) {
    throw invalid('smoothing', 'smoothing must lie in [0, 1).', smoothing, 'pass e.g. smoothing: 0.9.');
  }
  const step =
    cols.get('step') ?? Float64Array.from({ length: cols.values().next().value!.length }, (_, i) => i);
  const metricKeys = [...cols.keys()].filter((k) => k !== 'step');
  if (metricKeys.length === 0)
    throw invalid('history', 'history holds only steps.', 'step', 'log some metrics.');
  const auto = defaultGroups(metricKeys);
  const groups = options.groups?.map((g) => [...g]) ?? auto.groups;
  const titles = options.groupTitles ?? (options.groups ? groups.map((g) => g.join(', ')) : auto.titles);
  for (const g of groups) {
    for (const k of g) {
      if (!cols.has(k)) {
        throw invalid(
          'groups',
          `groups names the metric "${k}", which history lacks.`,
          k,
          `use one of ${metricKeys.join(', ')}.`,
        );
      }
    }
  }
  const keep = thinIndices(step.length, maxPoints);
  const panels: PlotPanel[] = [];
  const texts: TextItem[] = [];
  const blockH = panelHeight + 22;
  let colorIndex = 0;
  groups.forEach((g, p) => {
    const y0 = TITLE_BAND + p * blockH;
    texts.push({ x: MARGINS.marginLeft, y: y0 + 14, text: titles[p] ?? g.join(', '), size: 12, bold: true });
    let tx = width - MARGINS.marginRight;
    const marks: Plot.Markish[] = [];
    for (const k of [...g].reverse()) {
      const color = categoryColor(colorIndex + g.indexOf(k));
      texts.push({ x: tx, y: y0 + 14, text: `— ${k}`, size: 11, anchor: 'end', color });
      tx -= 22 + 6.5 * (k.length + 2);
    }
    for (const k of g) {
      const color = categoryColor(colorIndex++);
      const v = cols.get(k)!;
      const rows = keep.filter((i) => Number.isFinite(v[i])).map((i) => ({ step: step[i]!, value: v[i]! }));
      marks.push(
        Plot.line(rows, { x: 'step', y: 'value', stroke: color, strokeOpacity: smoothing > 0 ? 0.35 : 1 }),
      );
      if (smoothing > 0) {
        const s = ema(v, smoothing);
        const srows = keep
          .filter((i) => Number.isFinite(s[i]))
          .map((i) => ({ step: step[i]!, value: s[i]! }));
        marks.push(Plot.line(srows, { x: 'step', y: 'value', stroke: color, strokeWidth: 1.8 }));
      }
    }
    const last = p === groups.length - 1;
    panels.push({
      type: 'plot',
      x: 0,
      y: y0 + 18,
      options: {
        ...MARGINS,
        marginTop: 8,
        marginBottom: last ? MARGINS.marginBottom : 20,
        width,
        height: panelHeight,
        x: { label: last ? 'step' : null, domain: [step[0]!, step[step.length - 1]!] },
        y: { label: null, grid: true, nice: true },
        marks: [...marks, Plot.frame({ stroke: '#999' })],
      },
    });
  });
  return {
    kind: 'trainingCurves',
    title: options.title ?? 'Training curves',
    width,
    height: TITLE_BAND + groups.length * blockH + 24,
    panels,
    texts,
    data: { groups, steps: step.length },
  };
}

/** Options of {@link plotEnergyEvolution}. */
export interface EnergyEvolutionOptions {
  /** Label of the y axis (default `'energy'`). */
  readonly label?: string;
  /** Curves are thinned to at most this many points for drawing (default 4000). */
  readonly maxPoints?: number;
  readonly title?: string;
  /** Figure width in pixels (default 640). */
  readonly width?: number;
  /** Figure height in pixels (default 340). */
  readonly height?: number;
}

/**
 * Energy evolution over sampler steps: one series (e.g. the batch-mean energy), or one series per chain drawn
 * thin with their mean drawn bold. Input is a series, an array of per-chain series or a `[chains, steps]` tensor.
 */
export async function plotEnergyEvolution(
  energies: Series | ChainsInput,
  options: EnergyEvolutionOptions = {},
): Promise<Figure> {
  assertKnownOptions('plotEnergyEvolution', options, VIZ_OPTION_KEYS.energyEvolution);
  const width = checkSize('width', options.width ?? 640, 200);
  const height = checkSize('height', options.height ?? 340, 120);
  const maxPoints = checkInt('maxPoints', options.maxPoints ?? 4000, 2, 1e7);
  const single =
    (typeof (energies as { rank?: number }).rank === 'number' && (energies as { rank: number }).rank === 1) ||
    (Array.isArray(energies) && typeof energies[0] === 'number') ||
    ArrayBuffer.isView(energies);
  const chains = single
    ? [await toSeries('energies', energies as Series)]
    : await toChains('energies', energies as ChainsInput, 1);
  const n = chains[0]!.length;
  const keep = thinIndices(n, maxPoints);
  const marks: Plot.Markish[] = [];
  const mean = new Float64Array(n);
  for (const c of chains) for (let i = 0; i < n; i++) mean[i]! += c[i]! / chains.length;
  if (chains.length > 1) {
    chains.forEach((c, k) => {
      marks.push(
        Plot.line(
          keep.map((i) => ({ step: i, value: c[i]! })),
          { x: 'step', y: 'value', stroke: categoryColor(k), strokeOpacity: 0.45, strokeWidth: 0.8 },
        ),
      );
    });
  }
  marks.push(
    Plot.line(
      keep.map((i) => ({ step: i, value: mean[i]! })),
      { x: 'step', y: 'value', stroke: '#222', strokeWidth: chains.length > 1 ? 2 : 1.5 },
    ),
  );
  return {
    kind: 'energyEvolution',
    title: options.title ?? 'Energy evolution',
    width,
    height,
    panels: [
      {
        type: 'plot',
        x: 0,
        y: TITLE_BAND + 6,
        options: {
          ...MARGINS,
          width,
          height: height - TITLE_BAND - 6,
          x: { label: 'step', domain: [0, Math.max(1, n - 1)] },
          y: { label: options.label ?? 'energy', grid: true, nice: true },
          marks: [...marks, Plot.frame({ stroke: '#999' })],
        },
      },
    ],
    texts:
      chains.length > 1
        ? [
            {
              x: width - MARGINS.marginRight,
              y: TITLE_BAND + 4,
              text: `${chains.length} chains (thin), mean (bold)`,
              size: 11,
              anchor: 'end',
              color: '#555',
            },
          ]
        : [],
    data: { chains: chains.length, steps: n, mean },
  };
}
