import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Figure, savePlot } from '@ebm/viz/node';

/** Writes a figure as `<name>.png` and `<name>.svg` under `dir`; returns the two paths. */
export async function writeFigure(dir: string, name: string, figure: Figure): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const png = join(dir, `${name}.png`);
  const svg = join(dir, `${name}.svg`);
  await savePlot(figure, png);
  await savePlot(figure, svg);
  return [png, svg];
}

/** Writes pretty JSON. */
export function writeJson(dir: string, name: string, value: unknown): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, `${JSON.stringify(value, null, 2)}\n`);
  return p;
}
