// Hostile strings through every user-controlled string the studio shows, in the built app: each of the
// payloads in test/fixtures/xss/payloads.json goes through an error message (a config.json whose
// `architectures` entry is the payload, quoted whole in the refusal), a dataset file name, dataset text
// (.txt, .jsonl, .csv: every payload appears in a shown example) and a rejected .jsonl line's parse error;
// all of them at once through model output (a GPT-2 whose only likely token is all payloads joined: a
// tokenizer token and generated text) and through id2label (a ViT's class names, shown by classify);
// those a file system allows as names through model folder names and image class folder names.
// Nothing may run: no dialog, `window.__xss` stays unset, no element from a payload or with an on*
// attribute exists (the app's own SVG icons carry none), no CSP violation, console or page error, no request to another origin; and each
// payload is on screen as text where it should be.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page, chromium } from 'playwright-core';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHROMIUM_ARGS, chromiumPath } from '../helpers/chromium';
import { type BuiltApp, buildAndPreview } from './builtApp';
import { hostileGpt2, hostileVit } from './hostileModels';
import { type PageGuard, guardContext } from './pageGuard';

const ROOT = resolve(import.meta.dirname, '../..');
const LONG = 300_000;
const PNG = join(ROOT, 'public/demo/mnist-finetune/3/00.png');

/** Names a file system can hold: no '/', no NUL, at most 255 bytes, not '.' or '..'. */
// A backslash is excluded too: image folders treat it as a path separator (Windows paths).
const fsSafe = (p: string) => !/[/\\\0]/.test(p) && Buffer.byteLength(p) <= 255 && p !== '.' && p !== '..' && p.trim() === p && !p.startsWith('.');

/** Payloads packed into examples of at most 200 characters (what the preview shows of each). */
function examples(payloads: string[]): string[] {
  const out: string[] = [];
  let cur = '';
  for (const p of payloads) {
    if (p.length > 200) { out.push(p); continue; }
    if (cur !== '' && cur.length + 1 + p.length > 200) { out.push(cur); cur = ''; }
    cur = cur === '' ? p : `${cur} ${p}`;
  }
  if (cur !== '') out.push(cur);
  return out;
}

const csvField = (s: string) => `"${s.replaceAll('"', '""')}"`;

const text = (page: Page, testId: string) => page.getByTestId(testId).evaluate((e) => e.textContent ?? '');

describe('hostile strings in the studio', () => {
  let app: BuiltApp;
  let browser: Browser;
  let page: Page;
  let guard: PageGuard;
  let tmp: string;
  let payloads: string[];
  /** The hostile GPT-2: it generates every payload, joined, as one token (~90 000 characters). */
  const generating = () => hostileGpt2(payloads);

  beforeAll(async () => {
    payloads = JSON.parse(await readFile(join(ROOT, 'test/fixtures/xss/payloads.json'), 'utf8')) as string[];
    tmp = await mkdtemp(join(tmpdir(), 'lorasc-xss-'));
    app = await buildAndPreview();
    browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1200 } });
    guard = await guardContext(context, app.origin);
    page = await context.newPage();
    await page.goto(app.url);
    await page.waitForSelector('[data-testid=data-preview]', { timeout: LONG }); // the demo is in
    await page.getByTestId('set-seqLen').fill('16');
  });
  /** A model folder on disk (the model input takes folders only). */
  async function modelDir(name: string, files: { name: string; buffer: Buffer }[]): Promise<string> {
    const dir = join(tmp, 'models', name);
    await mkdir(dir, { recursive: true });
    for (const f of files) await writeFile(join(dir, f.name), f.buffer);
    return dir;
  }

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('uses more than 100 distinct payloads', () => {
    expect(new Set(payloads).size).toBe(payloads.length);
    expect(payloads.length).toBeGreaterThanOrEqual(100);
    expect(payloads.filter(fsSafe).length).toBeGreaterThanOrEqual(60);
  });

  it('shows each payload quoted in an error message as text', { timeout: LONG }, async () => {
    for (const [i, p] of payloads.entries()) {
      const dir = join(tmp, 'errors', String(i)); // the model input takes folders only
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', architectures: [p] }));
      await page.getByTestId('model-input').setInputFiles(dir);
      const want = `"${p}" is not supported for gpt2`;
      await page.waitForFunction((w) => [...document.querySelectorAll('[role=alert]')].some((a) => (a.textContent ?? '').includes(w)), want, { timeout: 30_000 });
    }
  });

  it('shows model folder names as text', { timeout: LONG }, async () => {
    const model = generating();
    const names = payloads.filter(fsSafe).slice(0, 8);
    for (const name of names) {
      await page.getByTestId('model-input').setInputFiles(await modelDir(name, model.files));
      await page.waitForFunction((n) => (document.querySelector('[data-testid=model-info] strong')?.textContent ?? '') === n, name, { timeout: 30_000 });
    }
  });

  it('shows dataset file names, dataset text and rejected-line errors as text', { timeout: LONG }, async () => {
    await page.getByTestId('model-input').setInputFiles(await modelDir('gpt2', generating().files));
    await page.waitForFunction(() => /^gpt2: GPT-2/.test(document.querySelector('[data-testid=model-info]')?.textContent ?? ''), null, { timeout: 30_000 });
    const ex = examples(payloads);
    const shown = new Set<string>();
    for (const [i, p] of payloads.entries()) {
      const format = (['txt', 'jsonl', 'csv'] as const)[i % 3];
      const rows = [0, 1, 2].map((k) => ex[(i + k) % ex.length]);
      const body = format === 'txt' ? rows[0]
        : format === 'jsonl' ? [...rows.map((r) => JSON.stringify({ text: r })), p].join('\n') // the payload as a raw, invalid line
          : ['text', ...rows.map(csvField)].join('\n');
      const name = `${p}.${format}`;
      await page.getByTestId('data-input').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(body) });
      await page.waitForFunction((n) => (document.querySelector('[data-testid=data-preview] strong')?.textContent ?? '') === n, name, { timeout: 30_000 })
        .catch(async (e: Error) => { throw new Error(`load ${i} (${JSON.stringify(name).slice(0, 80)}): ${e.message}; page shows ${JSON.stringify(await page.locator('[role=alert], [data-testid=data-preview] strong').allTextContents()).slice(0, 400)}`); });
      const preview = await text(page, 'data-preview');
      for (const r of format === 'txt' ? rows.slice(0, 1) : rows) {
        expect(preview, `example of ${format} load ${i}`).toContain(r.slice(0, 200));
        shown.add(r);
      }
      if (format === 'jsonl' && p.trim() !== '') {
        // JSON.parse's message quotes the start of the line; the preview names the line and shows it.
        expect(preview).toMatch(/line 4: /);
      }
    }
    expect(shown.size).toBe(ex.length); // every payload appeared in a shown example
  });

  it('shows generated text made of the payloads as text', { timeout: LONG }, async () => {
    const model = generating();
    await page.getByTestId('try-prompt').fill('A fool and his money');
    await page.getByTestId('try-generate').click();
    await page.waitForSelector('[data-testid=try-base]', { timeout: LONG });
    expect(await text(page, 'try-base')).toContain(model.generated);
  });

  it('shows id2label names and image class folder names as text', { timeout: LONG }, async () => {
    const all = payloads.join(' | ');
    await page.getByTestId('model-input').setInputFiles(await modelDir('vit', hostileVit([0, 1, 2, 3, 4].map((k) => `${k}: ${all}`))));
    await page.waitForFunction(() => /ViT, 2 layers.*5 classes/.test(document.querySelector('[data-testid=model-info]')?.textContent ?? ''), null, { timeout: 30_000 });
    const classes = payloads.filter(fsSafe);
    const root = join(tmp, 'images', classes[0]);
    for (const c of classes) {
      await mkdir(join(root, c), { recursive: true });
      await copyFile(PNG, join(root, c, `${classes[1]}.png`));
    }
    await page.getByTestId('data-input').setInputFiles(root);
    await page.waitForFunction((n) => (document.querySelector('[data-testid=data-preview] strong')?.textContent ?? '').includes(n), classes[0], { timeout: 30_000 });
    await page.locator('[data-testid=data-preview] summary', { hasText: 'Examples' }).click();
    const items = await page.locator('[data-testid=data-preview] details li').allTextContents();
    for (const c of classes) expect(items, `${JSON.stringify(c)} in ${JSON.stringify(items.filter((x) => x.includes(c.slice(0, 12))))}`).toContain(`${c}: 1`);
    await page.getByTestId('try-image').setInputFiles(PNG);
    await page.waitForSelector('[data-testid=try-base]', { timeout: LONG });
    const labels = await text(page, 'try-base');
    expect(labels.split(all).length - 1).toBe(3); // top 3 classes, each name holding every payload
  });

  it('ran none of it', async () => {
    await guard.workersReady();
    const dom = await page.evaluate(() => {
      const onAttrs = [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${e.tagName} ${a.name}`));
      const foreign = [...document.querySelectorAll('#root script, #root iframe, #root object, #root embed, #root img, #root image, #root video, #root audio, #root source, #root track, #root marquee, #root math, #root template, #root noscript, #root style, #root link, #root meta, #root base, #root animate, #root set, #root xss, #root isindex, #root keygen, base')]
        .map((e) => e.tagName);
      return { onAttrs, foreign, xss: (window as unknown as { __xss?: unknown }).__xss, base: document.baseURI };
    });
    expect(dom.onAttrs).toEqual([]);
    expect(dom.foreign).toEqual([]);
    expect(dom.xss).toBeUndefined();
    expect(dom.base).toBe(app.url);
    expect(guard.problems).toEqual([]);
    expect(guard.outside).toEqual([]);
  });
});
