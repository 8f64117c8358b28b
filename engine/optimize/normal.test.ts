import { describe, expect, it } from "vitest";
import { normCdf, normInv, normPdf } from "./normal";

// reference values from mpmath (30 digits): mp.ncdf(x), sqrt(2) * erfinv(2p - 1)
const CDF: [number, number][] = [
  [0, 0.5],
  [1, 0.841344746068542948585232545632],
  [-1, 0.158655253931457051414767454368],
  [1.96, 0.975002104851779563787176307604],
  [-1.5, 0.0668072012688580660044940409799],
  [-2, 0.0227501319481792072002826371665],
  [-2.5, 0.00620966532577613516697810457419],
  [-2.99, 0.0013948872354922494909230935056],
  [-3, 0.0013498980316300945266518147676],
  [-6, 9.86587645037698140700864132398e-10],
  [-10, 7.6198530241605260659733432516e-24],
  [-37, 5.72557122252457682268319254827e-300],
];
const INV: [number, number][] = [
  [0.5, 0],
  [0.975, 1.95996398454005423552459443052],
  [0.001, -3.09023230616781353535800457626],
  [0.02, -2.05374891063182304433863907492],
  [0.03, -1.88079360815125095518503665286],
  [0.9999999, 5.19933758229066109365735582414],
  [1e-10, -6.36134090240405619910039694879],
];

describe("normal distribution", () => {
  it("Φ matches reference values to ~1e-15 relative, tails included", () => {
    for (const [x, p] of CDF) expect(Math.abs(normCdf(x) - p) / p, `Φ(${x})`).toBeLessThan(2e-15);
    expect(normCdf(3)).toBeCloseTo(1 - 0.0013498980316300945, 15);
    expect(normCdf(40)).toBe(1);
    expect(normCdf(-40)).toBe(0);
    expect(normCdf(NaN)).toBeNaN();
  });

  it("Φ is symmetric and monotone", () => {
    let prev = 0;
    for (let x = -8; x <= 8; x += 0.01) {
      const p = normCdf(x);
      expect(p).toBeGreaterThanOrEqual(prev);
      expect(p + normCdf(-x)).toBeCloseTo(1, 14);
      prev = p;
    }
  });

  it("Φ⁻¹ matches reference values and inverts Φ", () => {
    for (const [p, x] of INV) expect(Math.abs(normInv(p) - x), `Φ⁻¹(${p})`).toBeLessThan(1e-14 * Math.max(1, Math.abs(x)));
    for (const p of [1e-300, 1e-20, 1e-5, 0.01, 0.02425, 0.1, 0.3, 0.7, 0.97575, 0.99, 0.99999]) expect(normCdf(normInv(p)) / p - 1).toBeLessThan(1e-12);
    expect(normInv(0)).toBe(-Infinity);
    expect(normInv(1)).toBe(Infinity);
    expect(normInv(-0.1)).toBeNaN();
    expect(normInv(1.1)).toBeNaN();
  });

  it("φ is the density", () => {
    expect(normPdf(0)).toBeCloseTo(0.3989422804014327, 15);
    expect(normPdf(1)).toBeCloseTo(0.24197072451914337, 15);
  });
});
