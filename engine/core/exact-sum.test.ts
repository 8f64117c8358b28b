import { describe, expect, it } from "vitest";
import { RollingSum, fsum } from "./exact-sum";

// ---------------------------------------------------------------------------
// Exact reference: every double is m * 2^e exactly (e >= -1074), so a sum of
// doubles is an integer multiple of 2^-1074. Sum those integers as BigInt and
// round to nearest, ties to even, back to a double.
// ---------------------------------------------------------------------------

const dv = new DataView(new ArrayBuffer(8));

/** x as an exact integer count of 2^-1074 (x finite). */
function scaled(x: number): bigint {
  dv.setFloat64(0, x);
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  const mant = biased === 0 ? frac : frac | (1n << 52n);
  const shift = biased === 0 ? 0 : biased - 1;
  const v = mant << BigInt(shift);
  return hi >>> 31 ? -v : v;
}

/** The double nearest to n * 2^-1074 (ties to even). */
function roundScaled(n: bigint): number {
  if (n === 0n) return 0;
  const neg = n < 0n;
  const a = neg ? -n : n;
  const bits = a.toString(2).length;
  let r: number;
  if (bits <= 53) {
    r = Number(a) * Number.MIN_VALUE; // exact: a < 2^53 units of 2^-1074
  } else {
    const shift = bits - 53;
    let q = a >> BigInt(shift);
    const rem = a - (q << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
    r = Number(q) * 2 ** (shift - 1074);
  }
  return neg ? -r : r;
}

function exactSum(xs: ArrayLike<number>): number {
  let s = 0n;
  for (let i = 0; i < xs.length; i++) s += scaled(xs[i]!);
  return roundScaled(s);
}

/** mulberry32: small seeded PRNG. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bitsEqual(a: number, b: number): boolean {
  return Object.is(a, b);
}

describe("BigInt reference (self-check)", () => {
  it("round-trips doubles and rounds ties to even", () => {
    for (const x of [0.1, -0.1, 1, 4321.25, 1e300, -1e-300, 5e-324, 2 ** 52 + 1, Number.MAX_VALUE]) {
      expect(roundScaled(scaled(x))).toBe(x);
    }
    // 2^53 + 1 is a tie between 2^53 and 2^53 + 2: even mantissa wins.
    expect(roundScaled(scaled(2 ** 53) + scaled(1))).toBe(2 ** 53);
    expect(roundScaled(scaled(2 ** 53) + scaled(3))).toBe(2 ** 53 + 4);
    expect(exactSum([0.1, 0.2])).toBe(0.30000000000000004);
  });
});

describe("fsum (CPython math.fsum port)", () => {
  const fromHex = (mant: bigint, exp: number) => Number(mant) * 2 ** exp;
  // Cases from CPython's test_math.testFsum.
  const cases: [number[], number][] = [
    [[], 0],
    [[0.0], 0],
    [[1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50], 1e-100],
    [[2.0 ** 53, -0.5, -(2.0 ** -54)], 2.0 ** 53 - 1.0],
    [[2.0 ** 53, 1.0, 2.0 ** -100], 2.0 ** 53 + 2.0],
    [[2.0 ** 53 + 10.0, 1.0, 2.0 ** -100], 2.0 ** 53 + 12.0],
    [[2.0 ** 53 - 4.0, 0.5, 2.0 ** -54], 2.0 ** 53 - 3.0],
    [Array.from({ length: 1000 }, (_, i) => 1 / (i + 1)), fromHex(0x1df11f45f4e61an, 2 - 52)],
    [Array.from({ length: 1000 }, (_, i) => (-1) ** (i + 1) / (i + 1)), -fromHex(0x162a2af1bd3624n, -1 - 52)],
    [[1e16, 1, 1e-16], 10000000000000002.0],
    [[1e16 - 2, 1 - 2 ** -53, -(1e16 - 2), -(1 - 2 ** -53)], 0.0],
    [
      // exercises growth of the partials scratch
      [...Array.from({ length: 1023 }, (_, i) => -1074 + 2 * i).map((n) => 2 ** n - 2 ** (n + 50) + 2 ** (n + 52)), -(2 ** 1022)],
      fromHex(0x15555555555555n, 970 - 52),
    ],
  ];
  it.each(cases.map((c, i) => [i, ...c] as const))("CPython case %i", (_i, xs, want) => {
    expect(bitsEqual(fsum(xs), want)).toBe(true);
    expect(bitsEqual(exactSum(xs), want)).toBe(true);
  });

  it("matches the BigInt reference on wide-range random data, in any order and any slice", () => {
    const rnd = mulberry32(7);
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + Math.floor(rnd() * 40);
      const xs = new Float64Array(n);
      for (let i = 0; i < n; i++) xs[i] = (rnd() - 0.5) * 2 ** Math.floor(rnd() * 200 - 100);
      expect(bitsEqual(fsum(xs), exactSum(xs))).toBe(true);
      const a = Math.floor(rnd() * n);
      expect(bitsEqual(fsum(xs, a, n), exactSum(xs.subarray(a)))).toBe(true);
      expect(bitsEqual(fsum(xs.slice().reverse()), exactSum(xs))).toBe(true);
    }
  });

  it("handles non-finite values like CPython (NaN where CPython raises)", () => {
    expect(fsum([1, Infinity, 2])).toBe(Infinity);
    expect(fsum([1, -Infinity])).toBe(-Infinity);
    expect(fsum([1, NaN, 2])).toBeNaN();
    expect(fsum([Infinity, -Infinity])).toBeNaN();
    expect(fsum([1e308, 1e308])).toBe(Infinity);
  });
});

describe("RollingSum", () => {
  it("sums exactly where naive summation rounds", () => {
    const s = new RollingSum();
    s.add(0.1);
    s.add(0.2);
    s.add(0.3);
    expect(s.value).toBe(0.6); // naive 0.1 + 0.2 + 0.3 = 0.6000000000000001
    expect(s.value).toBe(fsum([0.1, 0.2, 0.3]));
    s.remove(0.2);
    s.remove(0.1);
    expect(s.value).toBe(0.3);
    s.remove(0.3);
    expect(Object.is(s.value, 0)).toBe(true);
    expect(s.exact).toBe(true);

    const t = new RollingSum();
    t.add(1e16);
    t.add(1);
    t.add(1);
    expect(t.value).toBe(1e16 + 2);
    t.remove(1e16);
    expect(t.value).toBe(2);
    expect(t.hi + t.lo).toBe(2);
  });

  it("replace(x, y) is add(x) then remove(y)", () => {
    const rnd = mulberry32(11);
    const a = new RollingSum();
    const b = new RollingSum();
    const xs: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const x = Math.round(rnd() * 1e7) / 100;
      xs.push(x);
      if (i < 20) {
        a.add(x);
        b.add(x);
      } else {
        const y = xs[i - 20]!;
        a.replace(x, y);
        b.add(x);
        b.remove(y);
      }
      expect(a.hi).toBe(b.hi);
      expect(a.lo).toBe(b.lo);
    }
  });

  it("addProduct adds the exact product", () => {
    const rnd = mulberry32(3);
    const s = new RollingSum();
    let ref = 0n;
    for (let i = 0; i < 2000; i++) {
      const a = Math.floor(rnd() * 300) + 1;
      const b = Math.round(rnd() * 1e7) / 100;
      s.addProduct(a, b);
      ref += BigInt(a) * scaled(b);
      expect(s.value).toBe(roundScaled(ref));
    }
    expect(s.exact).toBe(true);
  });

  it("reports inexactness (dynamic range beyond a double-double, non-finite) until reset", () => {
    const s = new RollingSum();
    s.add(1e30);
    s.add(1e-30); // still exact: hi = 1e30, lo = 1e-30
    expect(s.exact).toBe(true);
    s.remove(1e30);
    expect(s.value).toBe(1e-30);
    s.add(1e30);
    s.add(1); // 1e30 + 1 + 1e-30 needs three doubles: rounds
    expect(s.exact).toBe(false);
    s.remove(1e30);
    expect(s.exact).toBe(false);
    s.reset();
    expect(s.exact).toBe(true);
    expect(s.value).toBe(0);
    s.add(NaN);
    expect(s.exact).toBe(false);
    s.reset();
    s.add(Infinity);
    expect(s.exact).toBe(false);
    s.reset();
    s.add(1);
    s.replace(2, NaN);
    expect(s.exact).toBe(false);
  });

  // The core requirement: a rolling window's RollingSum.value is bit-identical
  // to the correctly rounded exact sum (= Python's math.fsum(window)).
  const datasets: [string, () => (rnd: () => number) => number][] = [
    ["2-decimal prices 1..100000", () => (rnd) => Math.round((1 + rnd() * 99999) * 100) / 100],
    ["random doubles 1..100000", () => (rnd) => 1 + rnd() * 99999],
    [
      "2-decimal random walk around 15000",
      () => {
        let p = 15000;
        return (rnd) => (p = Math.max(1, Math.round((p + (rnd() - 0.5) * 20) * 100) / 100));
      },
    ],
  ];
  for (const [name, makeGen] of datasets) {
    for (const window of [10, 30, 200]) {
      it(`matches the exact BigInt sum at every one of 100k rolling steps: ${name}, window ${window}`, () => {
        const rnd = mulberry32(window * 7919 + name.length);
        const gen = makeGen();
        const steps = 100_000;
        const xs = new Float64Array(steps);
        const sc: bigint[] = new Array<bigint>(steps);
        for (let i = 0; i < steps; i++) {
          xs[i] = gen(rnd);
          sc[i] = scaled(xs[i]!);
        }
        const s = new RollingSum();
        let ref = 0n;
        let mismatches = 0;
        for (let i = 0; i < steps; i++) {
          ref += sc[i]!;
          if (i >= window) {
            ref -= sc[i - window]!;
            if (i % 2 === 0) s.replace(xs[i]!, xs[i - window]!);
            else {
              s.add(xs[i]!);
              s.remove(xs[i - window]!);
            }
          } else s.add(xs[i]!);
          if (!bitsEqual(s.value, roundScaled(ref))) mismatches++;
        }
        expect(mismatches).toBe(0);
        expect(s.exact).toBe(true);
        // and against a from-scratch exact sum and fsum of the final window
        const last = xs.subarray(steps - window);
        expect(bitsEqual(s.value, exactSum(last))).toBe(true);
        expect(bitsEqual(s.value, fsum(last))).toBe(true);
      });
    }
  }
});
