// Load throughput of a real-size checkpoint (issue 13 "Done when"): a GPT-2 124M layout (12 layers, n_embd 768,
// vocab 50,257, n_positions 1024, F32 with the attn.bias buffers: 548 MB, the Hub's gpt2 file's size) written
// to a temporary folder, then loaded by the real `lorasc eval` (a child process: the CLI's bridge streams it
// into headless Chromium by byte ranges, tensor by tensor) on 2 tokens. The row is the CLI's own load line
// ("loaded … MB of weights in … s (… MB/s; N reads, largest … MB)"): time from the first range request to the
// loaded model, cold page cache or not as the OS has it (the file was just written, so usually warm).
// Run alone: BENCH_REALSIZE_ALONE=1 npx vite-node bench/realsize.ts; `npm run bench` runs it after the page's rows.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** GPT-2 124M's tensors (names as the Hub's gpt2 model.safetensors), C 768, L 12, V 50,257, n_positions 1024. */
function gpt2Layout(): [string, number[]][] {
  const C = 768, L = 12, V = 50_257, NP = 1024, I = 4 * C;
  const t: [string, number[]][] = [['wte.weight', [V, C]], ['wpe.weight', [NP, C]]];
  for (let i = 0; i < L; i++) {
    const p = `h.${i}.`;
    t.push([`${p}ln_1.weight`, [C]], [`${p}ln_1.bias`, [C]], [`${p}attn.bias`, [1, 1, NP, NP]],
      [`${p}attn.c_attn.weight`, [C, 3 * C]], [`${p}attn.c_attn.bias`, [3 * C]], [`${p}attn.c_proj.weight`, [C, C]],
      [`${p}attn.c_proj.bias`, [C]], [`${p}ln_2.weight`, [C]], [`${p}ln_2.bias`, [C]], [`${p}mlp.c_fc.weight`, [C, I]],
      [`${p}mlp.c_fc.bias`, [I]], [`${p}mlp.c_proj.weight`, [I, C]], [`${p}mlp.c_proj.bias`, [C]]);
  }
  t.push(['ln_f.weight', [C]], ['ln_f.bias', [C]]);
  return t;
}

const GPT2_CONFIG = {
  activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'], bos_token_id: 50256, eos_token_id: 50256,
  layer_norm_epsilon: 1e-5, model_type: 'gpt2', n_ctx: 1024, n_embd: 768, n_head: 12, n_inner: null, n_layer: 12,
  n_positions: 1024, tie_word_embeddings: true, torch_dtype: 'float32', vocab_size: 50257,
};

/** Writes the checkpoint tensor by tensor (values are small finite numbers: only the layout matters here). */
export function writeGpt2Layout(dir: string): number {
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(GPT2_CONFIG, null, 2)}\n`);
  const layout = gpt2Layout();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [name, shape] of layout) {
    const n = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape, data_offsets: [off, off + n] };
    off += n;
  }
  const text = new TextEncoder().encode(JSON.stringify(header));
  const hn = Math.ceil(text.length / 8) * 8;
  const head = new Uint8Array(8 + hn).fill(0x20, 8);
  new DataView(head.buffer).setBigUint64(0, BigInt(hn), true);
  head.set(text, 8);
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  try {
    writeSync(fd, head);
    let s = 12345;
    for (const [, shape] of layout) {
      const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
      for (let i = 0; i < a.length; i++) a[i] = ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.04;
      writeSync(fd, new Uint8Array(a.buffer));
    }
  } finally {
    closeSync(fd);
  }
  return head.byteLength + off;
}

export interface LoadRow { fileBytes: number; mb: number; seconds: number; mbPerS: number; reads: number; largestMb: number }

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/lorasc.mjs'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('exit', (code) => done({ code, stderr }));
  });
}

/** One streamed load of the 548 MB checkpoint through the CLI; the numbers are the CLI's load line's. */
export async function measureLoad(): Promise<LoadRow> {
  const dir = mkdtempSync(join(tmpdir(), 'lorasc-bench-realsize-'));
  try {
    const fileBytes = writeGpt2Layout(dir);
    writeFileSync(join(dir, 'ids.json'), '[464, 3290]');
    const r = await runCli(['eval', '--model', dir, '--tokens', join(dir, 'ids.json')]);
    const m = /loaded ([\d.]+) MB of weights in ([\d.]+) s \(([\d.]+) MB\/s; (\d+) reads, largest ([\d.]+) MB\)/.exec(r.stderr);
    if (r.code !== 0 || !m) throw new Error(`lorasc eval on the real-size checkpoint: exit ${r.code}, no load line: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return { fileBytes, mb: +m[1], seconds: +m[2], mbPerS: +m[3], reads: +m[4], largestMb: +m[5] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function loadTable(r: LoadRow): string[] {
  return [
    `real-size load (GPT-2 124M layout, F32, ${(r.fileBytes / 1e6).toFixed(1)} MB file, lorasc eval through the CLI bridge):`,
    `  load throughput ${r.mbPerS.toFixed(1)} MB/s: ${r.mb.toFixed(1)} MB of weights in ${r.seconds.toFixed(1)} s, ` +
      `${r.reads} range reads, largest ${r.largestMb.toFixed(1)} MB (never the whole file)`,
  ];
}

/** Whether bench/run.ts runs this row: after the page's rows, unless --device, --lab or --only picked other rows. */
export const realSizeWanted = (args: string[]): boolean =>
  !args.includes('--device') && !args.includes('--lab') && !args.includes('--only');

// vite-node drops the script from process.argv, so running this file alone is asked for by the environment.
if (process.env.BENCH_REALSIZE_ALONE === '1') {
  const args = process.argv.slice(2);
  measureLoad().then((row) => {
    console.log(args.includes('--json') ? JSON.stringify({ realSizeLoad: row }, null, 2) : loadTable(row).join('\n'));
  }).catch((e) => {
    console.error(`bench realsize failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
