/**
 * A small seeded PRNG for the environments: sfc32 (Chris Doty-Humphrey's
 * Small Fast Counting generator, 128-bit state, passes PractRand to 2^50+),
 * seeded through splitmix32 so that nearby seeds give unrelated streams.
 *
 * The state lives in a flat Uint32Array (4 words per stream), so N
 * environments keep N independent streams in one typed array and nothing is
 * allocated per draw. Deterministic: the same seed gives the same sequence
 * on every machine (only 32-bit integer arithmetic).
 */

/** splitmix32 step: a well-mixed 32-bit value from a 32-bit counter. */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Seed stream `k` of `state` (words 4k..4k+3) from (seed, stream index). */
export function seedStream(state: Uint32Array, k: number, seed: number, stream = k): void {
  const base = Math.imul(seed | 0, 0x27d4eb2f) ^ Math.imul(stream + 1, 0x165667b1);
  const o = 4 * k;
  state[o] = splitmix32(base);
  state[o + 1] = splitmix32(base + 0x632be5ab);
  state[o + 2] = splitmix32(base + 0x7f4a7c15);
  state[o + 3] = 1;
  // discard the first outputs: sfc32's recommended warm-up
  for (let i = 0; i < 12; i++) nextU32(state, k);
}

/** Next 32-bit unsigned output of stream k. */
export function nextU32(s: Uint32Array, k: number): number {
  const o = 4 * k;
  const a = s[o]!;
  const b = s[o + 1]!;
  const c = s[o + 2]!;
  const d = s[o + 3]!;
  const t = (((a + b) | 0) + d) | 0;
  s[o + 3] = (d + 1) | 0;
  s[o] = b ^ (b >>> 9);
  s[o + 1] = (c + (c << 3)) | 0;
  const c2 = (c << 21) | (c >>> 11);
  s[o + 2] = (c2 + t) | 0;
  return t >>> 0;
}

/** Uniform in [0, 1) with 32 bits of resolution. */
export function nextFloat(s: Uint32Array, k: number): number {
  return nextU32(s, k) / 4294967296;
}

/** Uniform integer in [0, n) for 1 <= n <= 2^32, unbiased (Lemire's multiply-shift with rejection). */
export function nextInt(s: Uint32Array, k: number, n: number): number {
  if (!(n >= 1 && n <= 4294967296)) throw new RangeError(`nextInt: n must be in [1, 2^32], got ${n}`);
  n = Math.floor(n);
  if (n === 1) return 0;
  const threshold = 4294967296 % n; // 2^32 mod n
  if (n <= 2097152) {
    // x * n < 2^53: exact in a double
    for (;;) {
      const m = nextU32(s, k) * n;
      const hi = Math.floor(m / 4294967296);
      if (m - hi * 4294967296 >= threshold) return hi;
    }
  }
  const limit = 4294967296 - threshold;
  for (;;) {
    const x = nextU32(s, k);
    if (x < limit) return x % n;
  }
}

/** A single-stream convenience wrapper. */
export class Prng {
  private readonly s = new Uint32Array(4);
  constructor(seed: number) {
    seedStream(this.s, 0, seed);
  }
  u32(): number {
    return nextU32(this.s, 0);
  }
  float(): number {
    return nextFloat(this.s, 0);
  }
  int(n: number): number {
    return nextInt(this.s, 0, n);
  }
  /** Standard normal (Box-Muller, one of the pair). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }
}
