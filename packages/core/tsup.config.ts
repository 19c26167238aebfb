import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', register: 'src/register.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  splitting: true,
  treeshake: true,
  // register.js is its own side-effect entry: keep the import, never inline it.
  esbuildPlugins: [],
  external: ['./register.js'],
  noExternal: [/_generated/],
});
