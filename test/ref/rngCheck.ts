// Shared by the rng reference and kernel tests: the Random123 known answers and a Gaussian check.
import { expect } from 'vitest';

export const hex = (a: ArrayLike<number>): string => Array.from(a, (x) => (x >>> 0).toString(16).padStart(8, '0')).join(' ');

/** Random123 kat_vectors, philox4x32 with 10 rounds: counter, key, expected output. */
export const PHILOX_KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0],
    [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

/** Sample mean and standard deviation must sit within 5 standard errors of N(mean, std²). */
export function expectGaussian(x: ArrayLike<number>, mean: number, std: number, what: string): void {
  const n = x.length;
  let s = 0, s2 = 0, within = 0;
  for (let i = 0; i < n; i++) s += x[i];
  const m = s / n;
  for (let i = 0; i < n; i++) {
    s2 += (x[i] - m) ** 2;
    if (Math.abs(x[i] - mean) < std) within++;
  }
  const sd = Math.sqrt(s2 / (n - 1));
  expect(Math.abs(m - mean), `${what}: mean ${m}`).toBeLessThan((5 * std) / Math.sqrt(n));
  expect(Math.abs(sd - std), `${what}: std ${sd}`).toBeLessThan((5 * std) / Math.sqrt(2 * n));
  const p = 0.682689492;  // P(|z| < 1)
  expect(Math.abs(within / n - p), `${what}: fraction within 1σ ${within / n}`).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
}
