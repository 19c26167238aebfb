/**
 * Bundles the two live demos the way the site ships them (ESM, minified, code-split, tfjs backends as lazy
 * chunks) with esbuild and measures each output's min+gzip size. `test/size-budget.test.ts` checks the result
 * against `size-budget.json`; `pnpm exec tsx scripts/bundle-size.ts` prints it.
 */

import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';

const here = join(import.meta.dirname, '..');

/** Vite's `?url` imports: esbuild gets a placeholder string (the wasm binaries are assets, not code). */
const urlImports: Plugin = {
  name: 'url-imports',
  setup(b) {
    b.onResolve({ filter: /\?url$/ }, (a) => ({ path: a.path, namespace: 'url' }));
    b.onLoad({ filter: /.*/, namespace: 'url' }, () => ({
      contents: 'export default "asset.wasm";',
      loader: 'js',
    }));
  },
};

export interface DemoSizes {
  /** gzip bytes of what a demo page loads before any backend chunk: its entry plus the chunks it imports statically. */
  readonly initial: Record<string, number>;
  /** gzip bytes of each lazily loaded chunk (tfjs webgl, wasm, webgpu backends, @ebm/cuda). */
  readonly lazy: Record<string, number>;
}

export async function demoSizes(): Promise<DemoSizes> {
  const entries = {
    gallery: join(here, 'demos', 'gallery.ts'),
    playground: join(here, 'demos', 'playground.ts'),
  };
  const r = await build({
    entryPoints: entries,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    write: false,
    outdir: join(here, 'out-size'),
    metafile: true,
    logLevel: 'error',
    plugins: [urlImports],
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const gz = new Map(r.outputFiles.map((f) => [relative(here, f.path), gzipSync(f.contents).length]));
  const outs = r.metafile.outputs;
  const staticClosure = (file: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(file)) return seen;
    seen.add(file);
    for (const i of outs[file]?.imports ?? []) if (i.kind === 'import-statement') staticClosure(i.path, seen);
    return seen;
  };
  const initial: Record<string, number> = {};
  const inInitial = new Set<string>();
  for (const [file, o] of Object.entries(outs)) {
    const name =
      o.entryPoint === 'demos/gallery.ts'
        ? 'gallery'
        : o.entryPoint === 'demos/playground.ts'
          ? 'playground'
          : undefined;
    if (name === undefined) continue;
    const closure = staticClosure(file);
    for (const f of closure) inInitial.add(f);
    initial[name] = [...closure].reduce((a, f) => a + (gz.get(f) ?? 0), 0);
  }
  const lazy: Record<string, number> = {};
  for (const [file, o] of Object.entries(outs)) {
    if (inInitial.has(file) || file.endsWith('.map')) continue;
    // a lazy chunk is named after the package it loads (its dynamic-import entry), e.g. tfjs-backend-webgl
    const from = o.entryPoint ?? '';
    const label = from.startsWith('url:')
      ? 'wasm binary URLs'
      : (/(tfjs-backend-\w+)\/dist/.exec(from)?.[1] ??
        /packages\/(\w+)\//.exec(from)?.[1] ??
        'shared lazy chunks');
    lazy[label] = (lazy[label] ?? 0) + (gz.get(file) ?? 0);
  }
  return { initial, lazy };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await demoSizes();
  const kb = (v: Record<string, number>) =>
    Object.fromEntries(Object.entries(v).map(([k, b]) => [k, `${(b / 1024).toFixed(1)} KB`]));
  console.log({ initial: kb(s.initial), lazy: kb(s.lazy) });
}
