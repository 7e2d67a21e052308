import { describe, it } from 'vitest';
import { runSoftmaxBackward, runSoftmaxForward } from '../../src/kernels/softmax';
import { type SoftmaxShape, softmaxBackward, softmaxForward } from '../../src/ref/softmax';
import { expectAllClose } from '../helpers/allclose';
import { testContext } from '../helpers/gpu';
import { uniformF32 } from '../helpers/random';
import { TOL } from '../helpers/tolerances';

// N = 1, 7, 65, 101, 1000 cover all three workgroup widths (32, 64, 256) with rows shorter than,
// not a multiple of, and several times the workgroup; rows 1, 3, 45.
const NS = [1, 7, 65, 101, 1000];
const ROWS = [1, 3, 45];

/** `offset` shifts every logit: at +100 exp overflows f32 (max ≈ e^88.7) unless the row max is subtracted. */
async function check(s: SoftmaxShape, seed: number, offset = 0, dominant = false) {
  const ctx = await testContext();
  const len = s.rows * s.N;
  const x = uniformF32(len, seed, offset - 4, offset + 4);
  // One logit of +200 per row, at a different column in each row: exp overflows unless the max the
  // reduction finds is that logit, whichever thread holds it.
  if (dominant) for (let r = 0; r < s.rows; r++) x[r * s.N + ((r * 37) % s.N)] = 200;
  const dy = uniformF32(len, seed + 1);
  const y = new Float32Array(len);
  softmaxForward(y, x, s);
  const dx = new Float32Array(len);
  softmaxBackward(dx, dy, y, s);
  const bufs = {
    x: ctx.upload('x', x), y: ctx.createBuffer('y', len * 4),
    dy: ctx.upload('dy', dy), dx: ctx.createBuffer('dx', len * 4),
  };
  await runSoftmaxForward(ctx, s, bufs);
  // The backward consumes the GPU's own y, as in training.
  await runSoftmaxBackward(ctx, s, bufs);
  const what = `softmax rows=${s.rows} N=${s.N} offset=${offset}`;
  expectAllClose(await ctx.readF32(bufs.y, len), y, TOL.reduction, `${what} y`);
  expectAllClose(await ctx.readF32(bufs.dx, len), dx, TOL.backward, `${what} dx`);
  for (const b of Object.values(bufs)) b.destroy();
}

describe('softmax_forward.wgsl / softmax_backward.wgsl vs reference', () => {
  let seed = 100;
  for (const N of NS) {
    for (const rows of ROWS) {
      it(`rows=${rows} N=${N}`, async () => {
        await check({ rows, N }, seed++);
      });
    }
  }
  it('logits around +100 stay finite (max subtraction)', async () => {
    await check({ rows: 3, N: 101 }, 7, 100);
  });
  it('one dominant logit per row, at varied columns', async () => {
    await check({ rows: 45, N: 101 }, 8, 0, true);
    await check({ rows: 45, N: 1000 }, 10, 0, true);
  });
  it('rows > 65535 fold over two workgroup dimensions', async () => {
    await check({ rows: 65537, N: 2 }, 9);
  });
});
