// The merged export's BF16/F16 option (docs/formats.md#export-precision): the one rounding of the F32 merge
// equals PyTorch's tensor.to(bfloat16 / float16) bit for bit (test/fixtures/gen_export_precision.py: ties of
// both parities, F16 subnormals, the F16 overflow edge), the tally says how much of the update survived, and
// the streamed writer lays the folder out in the half type with config.json's torch_dtype to match.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExportError, f32ToBf16Bits, f32ToF16Bits, RoundingTally, roundTensor, writeMergedModelStreamed, type ExportSink } from '../../../src/io/export';
import { loadModelDir, type LoadedGpt2, type ModelDirSource, sourceFromMap } from '../../../src/io/hfModel';
import { bf16BitsToF32Bits, bytesRangeReader, f16BitsToF32Bits, readSafetensors, tensorFloat32 } from '../../../src/io/safetensors';
import { folder, gpt2Config, gpt2Tensors, type Files } from '../hfModel/fixtures';

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/export_precision/rounding.json', import.meta.url), 'utf8')) as { f32_bits: number[]; bf16_bits: number[]; f16_bits: number[] };
const f32 = new Float32Array(Uint32Array.from(fixture.f32_bits).buffer);
const fromBits = (bits: number) => new Float32Array(Uint32Array.of(bits).buffer)[0];

describe('F32 → BF16 / F16 rounding', () => {
  it('equals PyTorch bit for bit on ties, subnormals, overflow and weights', () => {
    const bf = Array.from(f32, f32ToBf16Bits);
    const h = Array.from(f32, f32ToF16Bits);
    const badBf = bf.findIndex((b, i) => b !== fixture.bf16_bits[i]);
    const badH = h.findIndex((b, i) => b !== fixture.f16_bits[i]);
    expect(badBf, `BF16 of ${f32[badBf]}`).toBe(-1);
    expect(badH, `F16 of ${f32[badH]}`).toBe(-1);
    expect(Array.from(roundTensor('BF16', f32))).toEqual(fixture.bf16_bits);
  });

  it('rounds to a nearest representable value (an independent check on random weights)', () => {
    for (let i = 0; i < 2000; i++) {
      const x = Math.fround(Math.sin(i * 12.9898) * 10 ** ((i % 9) - 6));
      for (const [round, decode, step] of [[f32ToBf16Bits, bf16BitsToF32Bits, 1], [f32ToF16Bits, f16BitsToF32Bits, 1]] as const) {
        const b = round(x);
        const v = fromBits(decode(b));
        // neither neighbour of the chosen half is closer
        for (const n of [b - step, b + step]) {
          if ((n & 0x7fff) === 0x7fff || n < 0 || (n & 0x7fff) >= (round === f32ToBf16Bits ? 0x7f80 : 0x7c00)) continue;
          expect(Math.abs(fromBits(decode(n)) - x)).toBeGreaterThanOrEqual(Math.abs(v - x));
        }
      }
    }
  });
});

describe('RoundingTally', () => {
  it('counts the changed elements whose rounded value moved, and the delta\'s relative error', () => {
    // base 1.0 (exact in both halves); BF16 ulp at 1 is 2⁻⁷, F16's 2⁻¹⁰
    const base = new Float32Array(6).fill(1);
    const merged = Float32Array.of(1, 1 + 1e-4, 1 + 2e-3, 1 + 0.02, 1 - 0.05, 1);
    const bf = new RoundingTally('BF16');
    bf.add(base, merged, roundTensor('BF16', merged));
    const f = bf.figure();
    expect(f.changed).toBe(4);
    expect(f.survived).toBe(2); // +1e-4 and +2e-3 are below half of 2⁻⁷; +0.02 and −0.05 survive
    const d = [1e-4, 2e-3, 0.02, -0.05].map((x) => Math.fround(1 + x) - 1);
    const r = [0, 0, bf16Value(1.02) - 1, bf16Value(0.95) - 1];
    const num = Math.hypot(...d.map((x, i) => r[i] - x));
    expect(f.deltaRelError).toBeCloseTo(num / Math.hypot(...d), 12);
    expect(f.survivedFraction).toBe(0.5);
    const h = new RoundingTally('F16');
    h.add(base, merged, roundTensor('F16', merged));
    expect(h.figure().survived).toBe(3); // F16's finer ulp keeps +2e-3
  });
});

function bf16Value(x: number): number {
  return fromBits(bf16BitsToF32Bits(f32ToBf16Bits(x)));
}

function ranged(files: Files): ModelDirSource {
  const base = sourceFromMap(files);
  return { ...base, open: async (n) => bytesRangeReader(files.get(n) as Uint8Array) };
}

function memorySink() {
  const files = new Map<string, Uint8Array>();
  const sink: ExportSink = {
    file: async (name, bytes) => { files.set(name, bytes.slice()); },
    open: async (name) => {
      const parts: Uint8Array[] = [];
      return {
        append: async (b) => { parts.push(b.slice()); },
        close: async () => { files.set(name, Uint8Array.from(parts.flatMap((p) => [...p]))); },
      };
    },
  };
  return { sink, files };
}

describe('streamed export in a half type', () => {
  for (const dtype of ['BF16', 'F16'] as const) {
    it(`writes ${dtype} tensors rounded once from the F32 merge, config torch_dtype to match, and tallies the update`, async () => {
      const files = folder(gpt2Config(), gpt2Tensors({ prefix: true, buffers: true }));
      const model = (await loadModelDir(ranged(files))) as LoadedGpt2;
      const name = 'h.0.attn.c_attn.weight';
      const base = model.tensors.get(name)!;
      const baseData = await (await import('../../../src/io/safetensors')).tensorFloat32(base);
      const merged = baseData.map((v, i) => v + (i % 3 === 0 ? 0.05 : 1e-9));
      const tally = new RoundingTally(dtype);
      const { sink, files: got } = memorySink();
      await writeMergedModelStreamed({ model, merged: (n) => (n === name ? merged : undefined), companions: new Map([['config.json', files.get('config.json') as string]]), dtype, tally }, sink);
      const st = readSafetensors(got.get('model.safetensors') as Uint8Array);
      const t = st.tensors.get(`transformer.${name}`)!;
      expect(t.dtype).toBe(dtype);
      const want = roundTensor(dtype, merged);
      const decode = dtype === 'BF16' ? bf16BitsToF32Bits : f16BitsToF32Bits;
      expect(Array.from(t.data)).toEqual(Array.from(want, (b) => fromBits(decode(b))));
      // an unmerged tensor is the base rounded the same way
      const wpe = st.tensors.get('transformer.wpe.weight')!;
      expect(wpe.dtype).toBe(dtype);
      expect(Array.from(wpe.data)).toEqual(Array.from(roundTensor(dtype, await tensorFloat32(model.tensors.get('wpe.weight')!)), (b) => fromBits(decode(b))));
      expect(JSON.parse(new TextDecoder().decode(got.get('config.json'))).torch_dtype).toBe(dtype === 'BF16' ? 'bfloat16' : 'float16');
      const fig = tally.figure();
      // changed: every F32 element that moved (a 1e-9 step vanishes in F32 itself on most weights)
      expect(fig.changed).toBe(merged.filter((v, i) => v !== baseData[i]).length);
      // the 0.05 steps survive, the 1e-9 ones cannot (far below half an ulp of either half type at these weights)
      const big = Math.ceil(merged.length / 3);
      expect(fig.survived).toBeGreaterThanOrEqual(big - 2);
      expect(fig.survived).toBeLessThanOrEqual(big);
      expect(fig.survivedFraction).toBeCloseTo(fig.survived / fig.changed, 12);
      expect(fig.changed).toBeGreaterThan(big);
    });
  }

  it('refuses a value beyond F16\'s range, naming the tensor', async () => {
    const files = folder(gpt2Config(), gpt2Tensors());
    const model = (await loadModelDir(ranged(files))) as LoadedGpt2;
    const big = new Float32Array(model.tensors.get('h.1.mlp.c_fc.weight')!.shape.reduce((a, b) => a * b, 1)).fill(1e5);
    const { sink } = memorySink();
    const run = writeMergedModelStreamed({ model, merged: (n) => (n === 'h.1.mlp.c_fc.weight' ? big : undefined), companions: new Map(), dtype: 'F16' }, sink);
    await expect(run).rejects.toThrow(ExportError);
    await expect(run).rejects.toThrow(/mlp\.c_fc\.weight.*overflows F16/);
  });
});
