import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { inspectPng } from './helpers.js';

it('the README example runs and writes non-blank PNGs', async () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const dir = mkdtempSync(join(__dirname, '.readme-'));
  try {
    const src = code
      .replace("'@ebm/viz/node'", `'${join(__dirname, '..', 'src', 'node.js')}'`)
      .replace(/'(landscape|samples)\.png'/g, (_m, name: string) => `'${join(dir, `${name}.png`)}'`)
      .concat('\nexport { svg };\n');
    writeFileSync(join(dir, 'example.ts'), src);
    const mod = (await import(join(dir, 'example.ts'))) as { svg: string };
    expect(mod.svg).toContain('MCMC diagnostics');
    for (const name of ['landscape', 'samples']) {
      const file = join(dir, `${name}.png`);
      expect(existsSync(file)).toBe(true);
      const png = inspectPng(new Uint8Array(readFileSync(file)));
      expect(png.nonBackground).toBeGreaterThan(0.3 * png.width * png.height);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
