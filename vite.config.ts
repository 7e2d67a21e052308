import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_ARGS, chromiumPath } from './src/cli/chromium.ts';
import { pagePolicy } from './src/pagePolicy.ts';

// One config for the app build and the tests: WGSL is imported with `?raw` in both, so kernel tests
// load the very shader files the app ships.
//
// Two test projects: `node` (CPU references, finite differences, io, end-to-end drivers) runs in Node; `gpu` runs in headless
// Chromium, whose WebGPU runs on SwiftShader where there is no GPU. GPU tests do not run in Node
// because Dawn's Node bindings crash under repeated buffer mapping on SwiftShader (see
// src/gpu/nodeGpu.ts); Chromium is also the browser the app targets.
export default defineConfig({
  // pagePolicy: the CSP and security headers on every response (dev, preview, the CLI's pages) and the
  // CSP meta tag in the built index.html.
  plugins: [react(), pagePolicy()],
  build: { target: 'es2022' },
  worker: { format: 'es' },
  server: { port: 5173 },
  preview: { port: 4173 },
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['test/ref/**/*.test.ts', 'test/node/**/*.test.ts'], environment: 'node', sequence: { groupOrder: 0 } },
      },
      {
        // The end-to-end runs drive their own Chromium on the same cores as the GPU project's: they run
        // after it (a later group), so neither starves the other. The real-size checks (test/e2e/real-size-*,
        // issue 13) are among them; `npm run test:real-size` runs only those.
        extends: true,
        test: {
          name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node', fileParallelism: false, sequence: { groupOrder: 1 },
          globalSetup: ['test/helpers/realSizeTeardown.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'gpu',
          include: ['test/kernels/**/*.test.ts', 'test/gpu/**/*.test.ts'],
          // Every GPU test fails on a GPU error no error scope caught (see the file).
          setupFiles: ['test/helpers/gpuErrors.ts'],
          sequence: { groupOrder: 0 },
          // SwiftShader uses every core for one dispatch: parallel GPU test files only thrash.
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
