import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    testing: 'src/testing/index.ts',
    register: 'src/register.ts',
    internal: 'src/internal.ts',
  },
  format: ['esm'],
  dts: {
    // Consumers see the chained-op types (x.add(y)) that register.js installs at run time.
    banner:
      "import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';",
  },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  splitting: true,
  treeshake: true,
  // register.js is its own side-effect entry: keep the import, never inline it.
  external: ['./register.js'],
  noExternal: [/_generated/],
});
