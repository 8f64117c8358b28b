/**
 * Seeded, splittable pseudo-random numbers for reinforcement learning.
 *
 * Generator: xoshiro128** (Blackman & Vigna) on four 32-bit words, driven with Math.imul so every
 * operation is exact 32-bit integer arithmetic: the same seed gives the same stream on any machine.
 * Seeding expands (seed, ...path) with a SplitMix32-style mixer, so `Rng.create(seed, "cartpole", 3)`
 * and `Rng.create(seed, "cartpole", 4)` are unrelated streams (environments 3 and 4), and each
 * trainer derives its own named streams the same way (`Rng.create(seed, "ppo", "actions")`). `split()` draws a child from the parent (advancing it);
 * `derive(id)` makes a child from the current state and an id without advancing the parent.
 *
 * uniform() has 53 random bits (two draws); normal() is Box–Muller with the second variate cached;
 * int(n) is unbiased (rejection). getState()/setState() capture everything, including the cached
 * normal, so a checkpointed stream continues exactly.
 */

export interface RngState {
  /** the four xoshiro128 words as unsigned 32-bit integers */
  s: [number, number, number, number];
  /** the cached second Box–Muller variate, or null */
  spare: number | null;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53_INV = 1 / 9007199254740992;

/** A 32-bit avalanche mix (the finaliser of SplitMix32 / Murmur3-like constants). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Hashes a list of 32-bit words into one (order matters). */
function hashWords(words: readonly number[], salt: number): number {
  let h = mix32(salt ^ 0x9e3779b9);
  for (const w of words) h = mix32((h + 0x9e3779b9 + mix32(w >>> 0)) >>> 0);
  return h;
}

/** Splits a finite number (an integer seed up to 2^53, or any double) or a name into 32-bit words. */
function seedWords(seed: number | string): number[] {
  if (typeof seed === "string") {
    // FNV-1a over UTF-16 code units, tagged so a name never equals a number
    let h = 0x811c9dc5;
    for (let k = 0; k < seed.length; k++) h = Math.imul(h ^ seed.charCodeAt(k), 0x01000193);
    return [h >>> 0, seed.length, 3];
  }
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  if (Number.isInteger(seed) && Math.abs(seed) <= Number.MAX_SAFE_INTEGER) {
    const neg = seed < 0 ? 1 : 0;
    const a = Math.abs(seed);
    return [a >>> 0, Math.floor(a / TWO_POW_32) >>> 0, neg];
  }
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, seed);
  return [dv.getUint32(0), dv.getUint32(4), 2];
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  /** Prefer Rng.create(seed, ...path). The four words must not all be zero. */
  constructor(s0: number, s1: number, s2: number, s3: number) {
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9 | 0;
  }

  /**
   * A generator for seed and an optional path of stream ids (numbers or names), e.g.
   * Rng.create(seed, "cartpole", envIndex) for one environment, Rng.create(seed, "ppo", "init") for
   * a trainer's initialisation. Different paths give independent streams; give every component its
   * own name so two components never share a stream.
   */
  static create(seed: number, ...path: (number | string)[]): Rng {
    const words = seedWords(seed);
    for (const p of path) words.push(...seedWords(p));
    words.push(path.length);
    return new Rng(hashWords(words, 1), hashWords(words, 2), hashWords(words, 3), hashWords(words, 4));
  }

  /** Restores a generator saved with getState(). */
  static fromState(state: RngState): Rng {
    const r = new Rng(1, 0, 0, 0);
    r.setState(state);
    return r;
  }

  /** Next raw output as a signed 32-bit integer (xoshiro128**). */
  nextInt32(): number {
    const s0 = this.s0,
      s1 = this.s1;
    let s2 = this.s2,
      s3 = this.s3;
    const r5 = Math.imul(s1, 5);
    const result = Math.imul((r5 << 7) | (r5 >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    this.s1 = s1 ^ s2;
    this.s0 = s0 ^ s3;
    this.s2 = s2 ^ t;
    this.s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /** Next raw output as an unsigned 32-bit integer. */
  nextUint32(): number {
    return this.nextInt32() >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextInt32() >>> 5; // 27 bits
    const b = this.nextInt32() >>> 6; // 26 bits
    return (a * 67108864 + b) * TWO_POW_53_INV;
  }

  /** Uniform in [lo, hi). */
  uniformRange(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal (Box–Muller; the second variate is cached for the next call). */
  normal(): number {
    const spare = this.spare;
    if (spare !== null) {
      this.spare = null;
      return spare;
    }
    const u1 = 1 - this.uniform(); // (0, 1]
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * u2;
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Uniform integer in [0, n), unbiased; n in [1, 2^32]. */
  int(n: number): number {
    if (!(n >= 1 && n <= TWO_POW_32) || !Number.isInteger(n)) throw new RangeError(`int(n): n must be an integer in [1, 2^32], got ${n}`);
    if ((n & (n - 1)) === 0 && n < TWO_POW_32) return (this.nextInt32() >>> 0) & (n - 1);
    // rejection: accept draws below the largest multiple of n that fits in 2^32
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextInt32() >>> 0;
      if (x < limit) return x % n;
    }
  }

  /** In-place Fisher–Yates shuffle of the first `length` entries (default: all). */
  shuffle(a: Int32Array | Uint32Array | number[], length = a.length): void {
    for (let i = length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }

  /** A child generator drawn from this one (advances this generator by four draws). */
  split(): Rng {
    const w = [this.nextUint32(), this.nextUint32(), this.nextUint32(), this.nextUint32()];
    return new Rng(hashWords(w, 11), hashWords(w, 12), hashWords(w, 13), hashWords(w, 14));
  }

  /** A child generator for stream `id`, from the current state; does not advance this generator. */
  derive(id: number): Rng {
    const w = [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, ...seedWords(id)];
    return new Rng(hashWords(w, 21), hashWords(w, 22), hashWords(w, 23), hashWords(w, 24));
  }

  getState(): RngState {
    return { s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0], spare: this.spare };
  }

  setState(state: RngState): void {
    const [a, b, c, d] = state.s;
    if ((a | b | c | d) === 0) throw new RangeError("rng state must not be all zero");
    this.s0 = a | 0;
    this.s1 = b | 0;
    this.s2 = c | 0;
    this.s3 = d | 0;
    this.spare = state.spare;
  }
}
