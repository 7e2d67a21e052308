// Headless Chromium for the CLI, browser-mode tests, benchmarks and end-to-end runs: Debian's
// `chromium`, whose SwiftShader gives WebGPU on machines without a GPU. Flags keep it off the network.
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string {
  const p = [process.env.LORASC_CHROMIUM, ...CANDIDATES].find((c): c is string => !!c && existsSync(c));
  if (!p) {
    throw new Error(
      'No Chromium found for the WebGPU tests. Install it (`apt-get install chromium`) or set ' +
        'LORASC_CHROMIUM to a Chrome/Chromium binary.',
    );
  }
  return p;
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
