import { describe, expect, it } from "vitest";
import { medianInPlace } from "./firewall";

describe("medianInPlace", () => {
  it("equals the middle of the sorted values, for odd and even sizes, ties and negatives", () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + Math.floor(rnd() * 300);
      const xs = new Float64Array(n).map(() => (rnd() < 0.2 ? Math.floor(rnd() * 4) : rnd() - 0.5));
      const sorted = Float64Array.from(xs).sort();
      const mid = n >> 1;
      const want = n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
      expect(medianInPlace(xs)).toBe(want);
    }
    expect(medianInPlace(new Float64Array(0))).toBe(0);
  });
});
