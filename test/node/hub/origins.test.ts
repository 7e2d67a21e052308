// One list of Hub origins feeds the page's CSP and the downloader (src/io/hub/origins.ts). A test build
// replaces it (VITE_HUB_BASE / VITE_HUB_CONNECT) instead of adding to it, so the production policy is
// never widened by a test setting, and the policy always names the origin the downloader uses.
import { describe, expect, it } from 'vitest';
import { DEFAULT_HUB_BASE, HUB_ORIGINS, hubOrigins } from '../../../src/io/hub/origins';
import { contentSecurityPolicy } from '../../../src/pagePolicy';

const connectSrc = (csp: string) => /(?:^|; )connect-src ([^;]*)/.exec(csp)?.[1];

describe('Hub origins', () => {
  it('unset: the production base and list', () => {
    expect(hubOrigins({})).toEqual({ base: DEFAULT_HUB_BASE, origins: [...HUB_ORIGINS] });
    expect(hubOrigins({ VITE_HUB_BASE: '  ', VITE_HUB_CONNECT: 'http://127.0.0.1:9' })).toEqual({ base: DEFAULT_HUB_BASE, origins: [...HUB_ORIGINS] });
    expect(connectSrc(contentSecurityPolicy('build'))).toBe(`'self' ${HUB_ORIGINS.join(' ')}`);
  });

  it('a test setting replaces the list with its own origins, for the policy and the base alike', () => {
    const t = hubOrigins({ VITE_HUB_BASE: 'http://127.0.0.1:4100/', VITE_HUB_CONNECT: 'http://127.0.0.1:4101 http://127.0.0.1:4101/x' });
    expect(t).toEqual({ base: 'http://127.0.0.1:4100', origins: ['http://127.0.0.1:4100', 'http://127.0.0.1:4101'] });
    const csp = contentSecurityPolicy('build', [], t.origins);
    expect(connectSrc(csp)).toBe("'self' http://127.0.0.1:4100 http://127.0.0.1:4101");
    expect(csp).not.toContain('huggingface.co');
  });

  it('refuses a setting that is not an http(s) origin', () => {
    expect(() => hubOrigins({ VITE_HUB_BASE: 'javascript:alert(1)' })).toThrow(/not an http\(s\) origin/);
    expect(() => hubOrigins({ VITE_HUB_BASE: 'http://127.0.0.1:1', VITE_HUB_CONNECT: 'data:text/plain,x' })).toThrow(/not an http\(s\) origin/);
  });
});
