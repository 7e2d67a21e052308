import { describe, it } from 'vitest';
import { attentionBackward, attentionForward } from '../../src/ref/attention';
import { type GqaShape, gqaBackward, gqaDecode, gqaForward, kvHead } from '../../src/ref/attention_gqa';
import { expectAllClose } from '../helpers/allclose';
import { dot, expectGradMatches } from '../helpers/finiteDiff';
import { uniformF64 } from '../helpers/random';

const sizes = (s: GqaShape) => ({ nq: s.B * s.T * s.NH * s.HS, nkv: s.B * s.T * s.NKV * s.HS, natt: s.B * s.NH * s.T * s.T });

function inputs(s: GqaShape, seed: number) {
  const { nq, nkv } = sizes(s);
  return { q: uniformF64(nq, seed, -2, 2), k: uniformF64(nkv, seed + 1, -2, 2), v: uniformF64(nkv, seed + 2), dout: uniformF64(nq, seed + 3) };
}

/** HF's repeat_kv: (B, T, NKV, HS) → (B, T, NH, HS), KV head kvHead(h) copied to query head h. */
function repeatKv(x: Float64Array, s: GqaShape): Float64Array {
  const out = new Float64Array(s.B * s.T * s.NH * s.HS);
  for (let bt = 0; bt < s.B * s.T; bt++) {
    for (let h = 0; h < s.NH; h++) {
      for (let d = 0; d < s.HS; d++) out[(bt * s.NH + h) * s.HS + d] = x[(bt * s.NKV + kvHead(h, s)) * s.HS + d];
    }
  }
  return out;
}

/** Packs (B, T, C) q, k, v into GPT-2's (B, T, 3C) qkv, the existing attention reference's layout. */
function pack(q: Float64Array, k: Float64Array, v: Float64Array, BT: number, C: number): Float64Array {
  const qkv = new Float64Array(BT * 3 * C);
  for (let r = 0; r < BT; r++) {
    qkv.set(q.subarray(r * C, (r + 1) * C), r * 3 * C);
    qkv.set(k.subarray(r * C, (r + 1) * C), r * 3 * C + C);
    qkv.set(v.subarray(r * C, (r + 1) * C), r * 3 * C + 2 * C);
  }
  return qkv;
}

// Ratios NH/NKV = 1, 2, 3 and MQA (NKV = 1); T 1 and odd; HS that is not C/NH of any model.
const SHAPES: GqaShape[] = [
  { B: 1, T: 1, NH: 1, NKV: 1, HS: 2 },
  { B: 2, T: 3, NH: 2, NKV: 2, HS: 3 },
  { B: 1, T: 4, NH: 4, NKV: 2, HS: 3 },
  { B: 2, T: 3, NH: 6, NKV: 2, HS: 2 },
  { B: 1, T: 5, NH: 3, NKV: 1, HS: 4 },
];
const name = (s: GqaShape) => `B=${s.B} T=${s.T} NH=${s.NH} NKV=${s.NKV} HS=${s.HS}`;

describe('attention_gqa reference', () => {
  for (const s of SHAPES) {
    it(`backward vs finite differences (Float64): ${name(s)}`, () => {
      const { nq, nkv, natt } = sizes(s);
      const { q, k, v, dout } = inputs(s, 40);
      const out = new Float64Array(nq), att = new Float64Array(natt);
      gqaForward(out, att, q, k, v, s);
      const dq = new Float64Array(nq), dk = new Float64Array(nkv), dv = new Float64Array(nkv);
      gqaBackward(dq, dk, dv, new Float64Array(natt), dout, q, k, v, att, s);
      const loss = (qq: Float64Array, kk: Float64Array, vv: Float64Array) => {
        const o = new Float64Array(nq);
        gqaForward(o, new Float64Array(natt), qq, kk, vv, s);
        return dot(o, dout);
      };
      expectGradMatches(dq, (x) => loss(x, k, v), q, 'dq');
      expectGradMatches(dk, (x) => loss(q, x, v), k, 'dk');
      expectGradMatches(dv, (x) => loss(q, k, x), v, 'dv');
    });

    it(`equals multi-head attention on repeat_kv'd K/V, dK/dV summed over each group: ${name(s)}`, () => {
      // The independent oracle is the existing GPT-2 reference (ref/attention.ts) with C = NH·HS.
      const { nq, nkv, natt } = sizes(s);
      const { q, k, v, dout } = inputs(s, 50);
      const C = s.NH * s.HS, BT = s.B * s.T, mha = { B: s.B, T: s.T, C, NH: s.NH, causal: true };
      const qkv = pack(q, repeatKv(k, s), repeatKv(v, s), BT, C);
      const wantOut = new Float64Array(nq), wantAtt = new Float64Array(natt);
      attentionForward(wantOut, wantAtt, qkv, mha);
      const out = new Float64Array(nq), att = new Float64Array(natt);
      gqaForward(out, att, q, k, v, s);
      const tight = { atol: 1e-13, rtol: 1e-12 };
      expectAllClose(out, wantOut, tight, 'out');
      expectAllClose(att, wantAtt, tight, 'att');

      const dqkv = new Float64Array(BT * 3 * C), wantDpre = new Float64Array(natt);
      attentionBackward(dqkv, wantDpre, dout, qkv, wantAtt, mha);
      const dq = new Float64Array(nq), dk = new Float64Array(nkv), dv = new Float64Array(nkv), dpre = new Float64Array(natt);
      gqaBackward(dq, dk, dv, dpre, dout, q, k, v, att, s);
      const wantDq = new Float64Array(nq), wantDk = new Float64Array(nkv), wantDv = new Float64Array(nkv);
      for (let r = 0; r < BT; r++) {
        for (let h = 0; h < s.NH; h++) {
          for (let d = 0; d < s.HS; d++) {
            const c = h * s.HS + d, kv = (r * s.NKV + kvHead(h, s)) * s.HS + d;
            wantDq[r * C + c] = dqkv[r * 3 * C + c];
            wantDk[kv] += dqkv[r * 3 * C + C + c];
            wantDv[kv] += dqkv[r * 3 * C + 2 * C + c];
          }
        }
      }
      expectAllClose(dpre, wantDpre, tight, 'dpreatt');
      expectAllClose(dq, wantDq, tight, 'dq');
      expectAllClose(dk, wantDk, tight, 'dk (group sum)');
      expectAllClose(dv, wantDv, tight, 'dv (group sum)');
    });
  }

  it('decode of the last token over a cache of T rows equals the last row of the full forward', () => {
    for (const s of SHAPES) {
      const { nq, natt } = sizes({ ...s, B: 1 });
      const one = { ...s, B: 1 };
      const { q, k, v } = inputs(one, 60);
      const out = new Float64Array(nq);
      gqaForward(out, new Float64Array(natt), q, k, v, one);
      const rowQ = s.NH * s.HS;
      // A cache with more rows than T (garbage beyond), as the generator allocates max positions.
      const kcache = uniformF64((s.T + 2) * s.NKV * s.HS, 61), vcache = uniformF64((s.T + 2) * s.NKV * s.HS, 62);
      kcache.set(k);
      vcache.set(v);
      const got = new Float64Array(rowQ);
      gqaDecode(got, new Float64Array(s.NH * s.T), q.subarray((s.T - 1) * rowQ), kcache, vcache, one);
      expectAllClose(got, out.subarray((s.T - 1) * rowQ), { atol: 1e-14, rtol: 1e-13 }, `decode ${name(one)}`);
    }
  });
});
