import { assertKnownOptions, EbmError } from '@ebm/core';
import * as Plot from '@observablehq/plot';
import { VIZ_OPTION_KEYS } from './option-keys.js';

/** The kinds of figure `@ebm/viz` builds. */
export type FigureKind =
  | 'energyLandscape'
  | 'samples'
  | 'sampleComparison'
  | 'trajectories'
  | 'trainingCurves'
  | 'energyEvolution'
  | 'trace'
  | 'autocorrelation'
  | 'rank'
  | 'diagnosticsTable'
  | 'datasetGallery'
  | 'mcmcDiagnostics'
  | 'combined';

/** One Observable Plot chart placed at `(x, y)` (pixels) on the figure sheet. */
export interface PlotPanel {
  readonly type: 'plot';
  readonly x: number;
  readonly y: number;
  /** Observable Plot options (marks, scales, `width`, `height`); rendered by `Plot.plot`. */
  readonly options: Plot.PlotOptions & { readonly width: number; readonly height: number };
}

/** A colour legend placed at `(x, y)`; rendered by `Plot.legend`. */
export interface LegendPanel {
  readonly type: 'legend';
  readonly x: number;
  readonly y: number;
  /** Observable Plot legend options: the `color` scale, plus `width`, `marginLeft`, `label`. */
  readonly options: {
    readonly color: Plot.ScaleOptions;
    readonly width?: number;
    readonly marginLeft?: number;
    readonly label?: string;
  };
}

/** A line of text on the figure sheet (titles, panel titles, notes). */
export interface TextItem {
  readonly x: number;
  readonly y: number;
  readonly text: string;
  /** Font size in pixels (default 12). */
  readonly size?: number;
  /** `'start' | 'middle' | 'end'` (default `'start'`). */
  readonly anchor?: 'start' | 'middle' | 'end';
  /** Bold when true. */
  readonly bold?: boolean;
  /** Text colour (default `#222`). */
  readonly color?: string;
}

/**
 * A figure: a sheet of `width × height` pixels holding a title, Observable Plot panels, colour legends and text,
 * plus the computed data behind it (`data`, e.g. the energy grid or the R̂/ESS rows). Plain data and Plot
 * options: render it with `toSvg` (browser and Node) or `toPng` / `savePlot` from `@ebm/viz/node`.
 */
export interface Figure {
  readonly kind: FigureKind;
  readonly title: string;
  readonly width: number;
  readonly height: number;
  readonly panels: readonly (PlotPanel | LegendPanel)[];
  readonly texts: readonly TextItem[];
  /** The numbers the figure shows (grid values, statistics, binned counts), for programs and tests. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** Options of {@link toSvg}. */
export interface ToSvgOptions {
  /**
   * The DOM document Observable Plot renders into. Default: `globalThis.document` (browsers). In Node, use
   * `toSvg` from `@ebm/viz/node`, which supplies a DOM shim.
   */
  readonly document?: Document;
  /** Background colour of the sheet (default `'white'`; `'none'` for transparent). */
  readonly background?: string;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';

/** Height of the title band at the top of every figure, in pixels. */
export const TITLE_BAND = 32;

function resolveDocument(doc: Document | undefined): Document {
  const d = doc ?? (globalThis as { document?: Document }).document;
  if (d === undefined || typeof d.createElementNS !== 'function') {
    throw new EbmError('BACKEND_UNAVAILABLE', 'toSvg needs a DOM document and none is available.', {
      argument: 'options.document',
      value: d === undefined ? 'undefined' : typeof d,
      fix: "in Node, import { toSvg, toPng, savePlot } from '@ebm/viz/node' (it supplies a DOM shim), or pass { document }.",
    });
  }
  return d;
}

function serialize(doc: Document, el: Element): string {
  const view = doc.defaultView as (Window & { XMLSerializer?: typeof XMLSerializer }) | null;
  const Ser =
    view?.XMLSerializer ??
    (globalThis as { XMLSerializer?: typeof XMLSerializer }).XMLSerializer ??
    undefined;
  if (Ser !== undefined) {
    try {
      return new Ser().serializeToString(el);
    } catch {
      // fall through to outerHTML (DOM shims without a working serializer)
    }
  }
  return el.outerHTML;
}

function place(doc: Document, el: Element, x: number, y: number): Element {
  // Plot's own <style> sets `height: auto` (meant for a top-level <svg>); nested, it would fight the
  // attributes, and rasterisers ignore `:where()`. Attributes already carry the fonts and colours.
  for (const s of Array.from(el.querySelectorAll('style'))) s.remove();
  el.removeAttribute('class');
  if (el.tagName.toLowerCase() !== 'svg') {
    const wrap = doc.createElementNS(SVG_NS, 'g');
    wrap.setAttribute('transform', `translate(${x},${y})`);
    wrap.appendChild(el);
    return wrap;
  }
  el.setAttribute('x', String(x));
  el.setAttribute('y', String(y));
  el.setAttribute('overflow', 'visible');
  return el;
}

/**
 * Renders a {@link Figure} to an SVG string with Observable Plot: one nested `<svg>` per panel and legend, the
 * title and texts on top. Works wherever a DOM `document` exists (browsers; Node through `@ebm/viz/node`).
 * Large point clouds in the figure are already raster images, so the SVG stays small.
 * @throws EbmError `BACKEND_UNAVAILABLE` when no document is available.
 */
export function toSvg(figure: Figure, options: ToSvgOptions = {}): string {
  assertKnownOptions('toSvg', options, VIZ_OPTION_KEYS.toSvg);
  validateFigure(figure);
  const doc = resolveDocument(options.document);
  const svg = doc.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('xmlns', SVG_NS);
  svg.setAttribute('xmlns:xlink', XLINK_NS);
  svg.setAttribute('width', String(figure.width));
  svg.setAttribute('height', String(figure.height));
  svg.setAttribute('viewBox', `0 0 ${figure.width} ${figure.height}`);
  svg.setAttribute('font-family', 'system-ui, sans-serif');
  svg.setAttribute('data-figure', figure.kind);
  const background = options.background ?? 'white';
  if (background !== 'none') {
    const bg = doc.createElementNS(SVG_NS, 'rect');
    bg.setAttribute('width', '100%');
    bg.setAttribute('height', '100%');
    bg.setAttribute('fill', background);
    svg.appendChild(bg);
  }
  const title = doc.createElementNS(SVG_NS, 'title');
  title.textContent = figure.title;
  svg.appendChild(title);
  for (const panel of figure.panels) {
    const el =
      panel.type === 'plot'
        ? (Plot.plot({ ...panel.options, document: doc }) as unknown as Element)
        : (Plot.legend({ ...panel.options, document: doc } as Plot.LegendScales) as unknown as Element);
    svg.appendChild(place(doc, el, panel.x, panel.y));
  }
  const items: TextItem[] = [
    { x: figure.width / 2, y: 22, text: figure.title, size: 16, anchor: 'middle', bold: true },
    ...figure.texts,
  ];
  for (const t of items) {
    const el = doc.createElementNS(SVG_NS, 'text');
    el.setAttribute('x', String(t.x));
    el.setAttribute('y', String(t.y));
    el.setAttribute('font-size', String(t.size ?? 12));
    el.setAttribute('text-anchor', t.anchor ?? 'start');
    el.setAttribute('fill', t.color ?? '#222');
    if (t.bold) el.setAttribute('font-weight', 'bold');
    el.textContent = t.text;
    svg.appendChild(el);
  }
  return serialize(doc, svg);
}

function validateFigure(figure: Figure): void {
  if (
    figure === null ||
    typeof figure !== 'object' ||
    !Array.isArray(figure.panels) ||
    !(figure.width > 0) ||
    !(figure.height > 0)
  ) {
    throw new EbmError('INVALID_PARAM', 'figure is not an @ebm/viz Figure.', {
      argument: 'figure',
      value: typeof figure,
      fix: 'pass the object returned by one of the plot functions (plotEnergyLandscape, plotSamples, ...).',
    });
  }
}

/** Options of {@link combineFigures}. */
export interface CombineOptions {
  /** Figures per row (default 1: stacked). */
  readonly columns?: number;
  /** Title of the sheet (default: the sub-figure titles joined). */
  readonly title?: string;
}

/**
 * Lays several figures out on one sheet (rows of `columns` figures, each keeping its own title), for example a
 * trace, an autocorrelation plot and a rank plot of the same run. Returns a new {@link Figure}.
 */
export function combineFigures(figures: readonly Figure[], options: CombineOptions = {}): Figure {
  assertKnownOptions('combineFigures', options, VIZ_OPTION_KEYS.combine);
  if (!Array.isArray(figures) || figures.length === 0) {
    throw new EbmError('INVALID_PARAM', 'figures is empty.', {
      argument: 'figures',
      value: Array.isArray(figures) ? 0 : typeof figures,
      fix: 'pass at least one figure returned by a plot function.',
    });
  }
  for (const f of figures) validateFigure(f);
  const columns = options.columns ?? 1;
  if (!Number.isInteger(columns) || columns < 1) {
    throw new EbmError('INVALID_PARAM', 'columns must be an integer >= 1.', {
      argument: 'columns',
      value: columns,
      fix: 'pass e.g. { columns: 2 }.',
    });
  }
  const cols = Math.min(columns, figures.length);
  const rows = Math.ceil(figures.length / cols);
  const colW = Array.from({ length: cols }, (_, c) =>
    Math.max(...figures.filter((_f, i) => i % cols === c).map((f) => f.width)),
  );
  const rowH = Array.from({ length: rows }, (_, r) =>
    Math.max(...figures.slice(r * cols, (r + 1) * cols).map((f) => f.height)),
  );
  const panels: (PlotPanel | LegendPanel)[] = [];
  const texts: TextItem[] = [];
  figures.forEach((f, i) => {
    const c = i % cols;
    const r = Math.floor(i / cols);
    const dx = colW.slice(0, c).reduce((a, b) => a + b, 0);
    const dy = TITLE_BAND + rowH.slice(0, r).reduce((a, b) => a + b, 0);
    for (const p of f.panels) panels.push({ ...p, x: p.x + dx, y: p.y + dy });
    texts.push({ x: dx + f.width / 2, y: dy + 22, text: f.title, size: 14, anchor: 'middle', bold: true });
    for (const t of f.texts) texts.push({ ...t, x: t.x + dx, y: t.y + dy });
  });
  return {
    kind: 'combined',
    title: options.title ?? figures.map((f) => f.title).join(' · '),
    width: colW.reduce((a, b) => a + b, 0),
    height: TITLE_BAND + rowH.reduce((a, b) => a + b, 0),
    panels,
    texts,
    data: { figures: figures.map((f) => ({ kind: f.kind, title: f.title, data: f.data })) },
  };
}
