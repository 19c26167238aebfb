import { defineConfig } from 'tsup';

export default defineConfig({
  // `index` is the browser-safe entry; `node` adds the DOM shim, resvg and fs (Node only).
  entry: { index: 'src/index.ts', node: 'src/node.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  splitting: true,
  treeshake: true,
  external: [/^node:/],
});
