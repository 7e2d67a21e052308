// Issue 14 item 3: Chromium keeps its sandbox wherever it can start one; --no-sandbox only as root on Linux
// (Chromium refuses to start as root with its sandbox), where user namespaces are off, or when asked.
import { describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, type SandboxHost, chromiumArgs, sandboxBlocker } from '../../../src/cli/chromium';

const host = (o: Partial<SandboxHost> & { sysctls?: Record<string, string> } = {}): SandboxHost => ({
  platform: 'linux', uid: 1000, env: {}, sysctl: (p) => o.sysctls?.[p], ...o,
});

describe('Chromium sandbox', () => {
  it('is kept for an ordinary user on Linux, on macOS and on Windows', () => {
    for (const h of [host(), host({ sysctls: { '/proc/sys/user/max_user_namespaces': '63000', '/proc/sys/kernel/unprivileged_userns_clone': '1' } }),
      host({ platform: 'darwin', uid: 501 }), host({ platform: 'win32', uid: undefined })]) {
      expect(sandboxBlocker(h)).toBeNull();
      expect(chromiumArgs(h)).not.toContain('--no-sandbox');
      expect(chromiumArgs(h)).toContain('--enable-unsafe-webgpu');
    }
  });

  it('is dropped only where it cannot start, saying why', () => {
    expect(sandboxBlocker(host({ uid: 0 }))).toMatch(/root/);
    expect(sandboxBlocker(host({ sysctls: { '/proc/sys/user/max_user_namespaces': '0' } }))).toMatch(/user namespaces/);
    expect(sandboxBlocker(host({ sysctls: { '/proc/sys/kernel/unprivileged_userns_clone': '0' } }))).toMatch(/user namespaces/);
    expect(sandboxBlocker(host({ env: { LORASC_CHROMIUM_NO_SANDBOX: '1' } }))).toMatch(/LORASC_CHROMIUM_NO_SANDBOX/);
    expect(chromiumArgs(host({ uid: 0 }))[0]).toBe('--no-sandbox');
  });

  it('this process gets the flags its own host calls for', () => {
    expect(CHROMIUM_ARGS.includes('--no-sandbox')).toBe(sandboxBlocker() !== null);
  });
});
