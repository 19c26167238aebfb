import { defineConfig } from 'tsup';

export default defineConfig({
  // `index` is the library; `cli/*` are the `ebm-worker` and `ebm-submit` executables (Node only).
  entry: { index: 'src/index.ts', 'cli/worker': 'src/cli/worker.ts', 'cli/submit': 'src/cli/submit.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'node',
  splitting: true,
  treeshake: true,
});
