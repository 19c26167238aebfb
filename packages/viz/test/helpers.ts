import { mkdirSync, writeFileSync } from 'node:fs';
import { BaseEnergy, type EbmErrorCode } from '@ebm/core';
import { expectEbmErrorAsync } from '@ebm/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { decode } from 'fast-png';
import { DOMParser } from 'linkedom';
import { expect } from 'vitest';
import { type Figure, toPng, toSvg } from '../src/node.js';

/** E(x, y) = 2 (x² − 1)² + ½ (y − ½)²: two wells at (±1, ½). */
export class TestDoubleWell extends BaseEnergy {
  constructor() {
    super({ dim: 2, name: 'TestDoubleWell' });
  }
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    const [a, b] = tf.split(x, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const e = tf.add(tf.mul(2, tf.square(tf.sub(tf.square(a), 1))), tf.mul(0.5, tf.square(tf.sub(b, 0.5))));
    return tf.reshape(e, [-1]) as tf.Tensor1D;
  }
}

export function doubleWell(x: number, y: number): number {
  return 2 * (x * x - 1) ** 2 + 0.5 * (y - 0.5) ** 2;
}

/** A 3-D quadratic (for dimension errors). */
export class Quadratic3 extends BaseEnergy {
  constructor() {
    super({ dim: 3, name: 'Quadratic3' });
  }
  protected computeEnergy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.mul(0.5, tf.sum(tf.square(x), 1)) as tf.Tensor1D;
  }
}

/** Deterministic uniform numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by Box–Muller. */
export function normals(n: number, seed: number): number[] {
  const u = rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
  return out;
}

/** AR(1) chain with stationary N(mu, 1). */
export function ar1(n: number, phi: number, seed: number, mu = 0): number[] {
  const z = normals(n, seed);
  const out: number[] = [];
  let v = z[0]!;
  for (let i = 0; i < n; i++) {
    if (i > 0) v = phi * v + Math.sqrt(1 - phi * phi) * z[i]!;
    out.push(v + mu);
  }
  return out;
}

export function parseSvg(svg: string): Document {
  return new DOMParser().parseFromString(svg, 'image/svg+xml') as unknown as Document;
}

/** Number of elements in an SVG string. */
export function elementCount(svg: string): number {
  return (svg.match(/<[a-zA-Z]/g) ?? []).length;
}

/** Elements with `aria-label` equal to `label` (Observable Plot labels its marks and axes). */
export function byAria(svg: string, label: string): number {
  return (svg.match(new RegExp(`aria-label="${label}"`, 'g')) ?? []).length;
}

export interface PngInfo {
  width: number;
  height: number;
  /** Pixels that are not (near) white. */
  nonBackground: number;
  /** Distinct colours (quantised to 4 bits per channel). */
  colours: number;
  pixel(x: number, y: number): [number, number, number];
}

export function inspectPng(png: Uint8Array): PngInfo {
  const img = decode(png);
  const ch = img.channels;
  const d = img.data;
  let non = 0;
  const cols = new Set<number>();
  for (let i = 0; i < img.width * img.height; i++) {
    const r = d[i * ch]!;
    const g = d[i * ch + 1]!;
    const b = d[i * ch + 2]!;
    if (r < 245 || g < 245 || b < 245) non++;
    cols.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
  }
  return {
    width: img.width,
    height: img.height,
    nonBackground: non,
    colours: cols.size,
    pixel: (x, y) => {
      const i = (y * img.width + x) * ch;
      return [d[i]!, d[i + 1]!, d[i + 2]!];
    },
  };
}

/** Renders to SVG and PNG, checks the common structure; writes the PNG under out/ when EBM_VIZ_OUT=1. */
export function renderBoth(fig: Figure, name: string): { svg: string; png: PngInfo } {
  const svg = toSvg(fig);
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain(`width="${fig.width}"`);
  expect(svg).toContain(`height="${fig.height}"`);
  expect(svg).toContain(`<title>${escapeXml(fig.title)}</title>`);
  const doc = parseSvg(svg);
  expect(doc.querySelector('parsererror')).toBeNull();
  const bytes = toPng(fig);
  expect(Array.from(bytes.slice(1, 4))).toEqual([0x50, 0x4e, 0x47]);
  const png = inspectPng(bytes);
  expect(png.width).toBe(fig.width);
  expect(png.height).toBe(fig.height);
  if (process.env.EBM_VIZ_OUT === '1') {
    mkdirSync('out', { recursive: true });
    writeFileSync(`out/${name}.png`, bytes);
    writeFileSync(`out/${name}.svg`, svg);
  }
  return { svg, png };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Awaits `p` and asserts it rejects with an EbmError of the given code (and argument, when given). */
export async function expectEbmError(
  p: Promise<unknown> | (() => unknown),
  code: EbmErrorCode,
  argument?: string,
): Promise<void> {
  await expectEbmErrorAsync(p, code, argument === undefined ? {} : { argument });
}
