import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    testing: 'src/testing/index.ts',
    register: 'src/register.ts',
    'register.browser': 'src/register.browser.ts',
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
  // The register side-effect entry is imported by package name, never inlined: `@ebm/core/register` resolves
  // through the export conditions to register.js (Node: bundled registrations) or register.browser.js
  // (bundlers: tfjs-core's own registration modules).
  esbuildPlugins: [
    {
      name: 'register-by-name',
      setup(build) {
        build.onResolve({ filter: /^\.\.?\/register\.js$/ }, () => ({
          path: '@ebm/core/register',
          external: true,
        }));
      },
    },
  ],
  external: [/^node:/, /^@tensorflow\/tfjs-core\/dist\//],
  noExternal: [/_generated/],
});
