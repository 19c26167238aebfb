/**
 * `@ebm/viz/node`: everything of `@ebm/viz`, plus Node rendering — `toSvg` with a DOM shim (linkedom),
 * `toPng` (resvg) and `savePlot` (`.svg` or `.png` by extension). Not for browser bundles.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { assertKnownOptions, EbmError } from '@ebm/core';
import type * as ResvgModule from '@resvg/resvg-js';
import { rgb } from 'd3-color';
import { encode } from 'fast-png';
import type * as LinkedomModule from 'linkedom';
import { type Figure, type ToSvgOptions, toSvg as toSvgWith } from './figure.js';
import { pickOptions, VIZ_OPTION_KEYS } from './option-keys.js';

export * from './index.js';

const requirePeer = createRequire(import.meta.url);
/**
 * Loads an optional peer on first use (`linkedom` for SVG, `@resvg/resvg-js` for PNG): browser users of
 * `@ebm/viz` never install them. A missing one is a `BACKEND_UNAVAILABLE` error that says what to install.
 */
function peer<T>(name: string, needed: string): T {
  try {
    return requirePeer(name) as T;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new EbmError('BACKEND_UNAVAILABLE', `${needed} in Node needs the optional peer ${name}.`, {
      argument: name,
      value: undefined,
      fix: `npm i ${name} (an optional peer of @ebm/viz, installed only by Node users who render files).`,
      cause: e,
    });
  }
}

/** A 2-D canvas context with the calls Observable Plot makes for raster marks and colour ramps. */
class ShimContext2D {
  private color: [number, number, number, number] = [0, 0, 0, 255];
  private style = '#000000';
  constructor(private readonly canvas: ShimCanvas) {}
  get fillStyle(): string {
    return this.style;
  }
  set fillStyle(v: string) {
    const c = rgb(String(v));
    this.style = String(v);
    this.color = [c.r, c.g, c.b, Math.round((Number.isFinite(c.opacity) ? c.opacity : 1) * 255)];
  }
  createImageData(w: number, h: number): { width: number; height: number; data: Uint8ClampedArray } {
    return { width: w, height: h, data: new Uint8ClampedArray(w * h * 4) };
  }
  putImageData(
    img: { width: number; height: number; data: Uint8ClampedArray },
    dx: number,
    dy: number,
  ): void {
    const px = this.canvas.pixels();
    const W = this.canvas.width;
    for (let y = 0; y < img.height; y++) {
      const ty = y + dy;
      if (ty < 0 || ty >= this.canvas.height) continue;
      for (let x = 0; x < img.width; x++) {
        const tx = x + dx;
        if (tx < 0 || tx >= W) continue;
        const s = (y * img.width + x) * 4;
        const d = (ty * W + tx) * 4;
        px[d] = img.data[s]!;
        px[d + 1] = img.data[s + 1]!;
        px[d + 2] = img.data[s + 2]!;
        px[d + 3] = img.data[s + 3]!;
      }
    }
  }
  fillRect(x: number, y: number, w: number, h: number): void {
    const px = this.canvas.pixels();
    const W = this.canvas.width;
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(W, Math.round(x + w));
    const y1 = Math.min(this.canvas.height, Math.round(y + h));
    for (let j = y0; j < y1; j++) {
      for (let i = x0; i < x1; i++) px.set(this.color, (j * W + i) * 4);
    }
  }
}

/** A minimal off-screen canvas for Node: RGBA pixels encoded to a PNG data URL with fast-png. */
class ShimCanvas {
  width = 300;
  height = 150;
  private data: Uint8ClampedArray | undefined;
  private ctx: ShimContext2D | undefined;
  pixels(): Uint8ClampedArray {
    if (this.data === undefined || this.data.length !== this.width * this.height * 4) {
      this.data = new Uint8ClampedArray(this.width * this.height * 4);
    }
    return this.data;
  }
  getContext(kind: string): ShimContext2D | null {
    if (kind !== '2d') return null;
    this.ctx ??= new ShimContext2D(this);
    return this.ctx;
  }
  toDataURL(): string {
    const png = encode({
      width: this.width,
      height: this.height,
      data: this.pixels(),
      channels: 4,
      depth: 8,
    });
    return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
  }
}

/**
 * A linkedom document whose `createElement('canvas')` returns a small pixel canvas, so Observable Plot's raster
 * marks and colour ramps render in Node without native canvas libraries.
 */
export function createNodeDocument(): Document {
  const { parseHTML } = peer<typeof LinkedomModule>('linkedom', 'toSvg');
  const { document } = parseHTML('<!DOCTYPE html><html><head></head><body></body></html>');
  const create = document.createElement.bind(document);
  Object.defineProperty(document, 'createElement', {
    configurable: true,
    value: (name: string, opts?: ElementCreationOptions) =>
      String(name).toLowerCase() === 'canvas' ? new ShimCanvas() : create(name, opts),
  });
  return document as unknown as Document;
}

/** {@link toSvgWith | toSvg} for Node: renders a figure to an SVG string using a linkedom document. */
export function toSvg(figure: Figure, options: ToSvgOptions = {}): string {
  assertKnownOptions('toSvg', options, VIZ_OPTION_KEYS.toSvg);
  return toSvgWith(figure, { ...options, document: options.document ?? createNodeDocument() });
}

/** Options of {@link toPng}. */
export interface ToPngOptions extends ToSvgOptions {
  /** Pixel density: 2 renders at twice the figure's size (default 1). */
  readonly scale?: number;
}

/** Renders a figure to PNG bytes (SVG through `@resvg/resvg-js`, system fonts). */
export function toPng(figure: Figure, options: ToPngOptions = {}): Uint8Array {
  assertKnownOptions('toPng', options, VIZ_OPTION_KEYS.toPng);
  const scale = options.scale ?? 1;
  if (typeof scale !== 'number' || !(scale > 0 && scale <= 8)) {
    throw new EbmError('INVALID_PARAM', 'scale must be a number in (0, 8].', {
      argument: 'scale',
      value: scale,
      fix: 'pass e.g. { scale: 2 } for a high-density PNG.',
    });
  }
  const svg = toSvg(figure, pickOptions(options, VIZ_OPTION_KEYS.toSvg));
  const { Resvg } = peer<typeof ResvgModule>('@resvg/resvg-js', 'toPng');
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return new Uint8Array(resvg.render().asPng());
}

/**
 * Writes a figure to `path`: SVG for `.svg`, PNG for `.png` (other extensions throw `INVALID_PARAM`).
 * @returns the number of bytes written.
 */
export async function savePlot(figure: Figure, path: string, options: ToPngOptions = {}): Promise<number> {
  assertKnownOptions('savePlot', options, VIZ_OPTION_KEYS.toPng);
  const lower = String(path).toLowerCase();
  let bytes: Uint8Array;
  if (lower.endsWith('.svg'))
    bytes = new TextEncoder().encode(toSvg(figure, pickOptions(options, VIZ_OPTION_KEYS.toSvg)));
  else if (lower.endsWith('.png')) bytes = toPng(figure, options);
  else {
    throw new EbmError('INVALID_PARAM', 'savePlot writes .svg or .png files.', {
      argument: 'path',
      value: path,
      fix: 'end the path with .svg or .png.',
    });
  }
  await writeFile(path, bytes);
  return bytes.length;
}
