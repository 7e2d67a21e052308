// Headless Chromium for the CLI, browser-mode tests, benchmarks and end-to-end runs: Debian's
// `chromium`, whose SwiftShader gives WebGPU on machines without a GPU. Flags keep it off the network.
// Chromium keeps its sandbox (it decodes the user's images and runs our shaders) wherever it can start
// one: on Linux it refuses to start as root without --no-sandbox, and it needs user namespaces.
import { existsSync, readFileSync } from 'node:fs';

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

export interface SandboxHost {
  platform: NodeJS.Platform;
  /** Effective user id (undefined where the platform has none). */
  uid: number | undefined;
  env: Record<string, string | undefined>;
  /** A /proc/sys setting's text, or undefined where it does not exist. */
  sysctl: (path: string) => string | undefined;
}

function thisHost(): SandboxHost {
  return {
    platform: process.platform,
    uid: process.geteuid?.(),
    env: process.env,
    sysctl: (path) => { try { return readFileSync(path, 'utf8').trim(); } catch { return undefined; } },
  };
}

/** Why Chromium's sandbox cannot start on this host (so --no-sandbox is passed), or null: sandboxed. */
export function sandboxBlocker(h: SandboxHost = thisHost()): string | null {
  if (h.env.LORASC_CHROMIUM_NO_SANDBOX === '1') return 'LORASC_CHROMIUM_NO_SANDBOX=1';
  if (h.platform !== 'linux') return null;
  if (h.uid === 0) return 'running as root (Chromium refuses its sandbox as root on Linux)';
  if (h.sysctl('/proc/sys/user/max_user_namespaces') === '0') return 'user namespaces are disabled (user.max_user_namespaces = 0)';
  if (h.sysctl('/proc/sys/kernel/unprivileged_userns_clone') === '0') return 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)';
  return null;
}

export function chromiumArgs(h: SandboxHost = thisHost()): string[] {
  return [...(sandboxBlocker(h) ? ['--no-sandbox'] : []), ...BASE_ARGS];
}

const BASE_ARGS = [
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const CHROMIUM_ARGS = chromiumArgs();
