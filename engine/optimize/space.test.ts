import { describe, expect, it } from "vitest";
import { findStrategy, resolveParams } from "../core/strategies/builtin";
import { buildSpace, enumerateGrid, GRID_LIMIT, SpaceError } from "./space";

const sma = findStrategy("sma-cross");
const smaBase = resolveParams(sma, {});
const rsi = findStrategy("rsi-reversion");
const rsiBase = resolveParams(rsi, {});

function fieldOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SpaceError) return e.field;
    throw e;
  }
  throw new Error("did not throw");
}

describe("parameter spaces", () => {
  it("expands ranges and lists; numbers sorted, duplicates dropped", () => {
    const s = buildSpace(sma, { fast: { min: 2, max: 10, step: 4 }, slow: [40, 20, 20, 30], mode: ["long_short", "long_only"] }, smaBase);
    expect(s.dims.map((d) => [d.name, d.values()])).toEqual([
      ["fast", [2, 6, 10]],
      ["slow", [20, 30, 40]],
      ["mode", ["long_short", "long_only"]],
    ]);
    expect(s.size).toBe(18);
    expect(s.point([1, 2, 0])).toEqual({ fast: 6, slow: 40, mode: "long_short" });
    expect(s.key([1, 2, 0])).toBe("1,2,0");
  });

  it("rounds fractional steps to the decimals given", () => {
    const b = findStrategy("bollinger-breakout");
    const s = buildSpace(b, { k: { min: 0.1, max: 0.7, step: 0.2 } }, resolveParams(b, {}));
    expect(s.dims[0]!.values()).toEqual([0.1, 0.3, 0.5, 0.7]);
    const s2 = buildSpace(b, { k: { min: 1, max: 1.3, step: 0.1 } }, resolveParams(b, {}));
    expect(s2.dims[0]!.values()).toEqual([1, 1.1, 1.2, 1.3]);
  });

  it("names the field of every error", () => {
    expect(fieldOf(() => buildSpace(sma, { fats: [1, 2] }, smaBase))).toBe("space.fats");
    expect(() => buildSpace(sma, { fats: [1, 2] }, smaBase)).toThrow(/unknown parameter 'fats' for strategy sma-cross \(known: fast, slow, size, mode\)/);
    expect(fieldOf(() => buildSpace(sma, { fast: [0, 5] }, smaBase))).toBe("space.fast.0");
    expect(() => buildSpace(sma, { fast: [0, 5] }, smaBase)).toThrow(/below the minimum 1/);
    expect(fieldOf(() => buildSpace(sma, { fast: [2.5] }, smaBase))).toBe("space.fast.0");
    expect(fieldOf(() => buildSpace(sma, { slow: { min: 50, max: 20000 } }, smaBase))).toBe("space.slow.max");
    expect(fieldOf(() => buildSpace(sma, { slow: { min: 50, max: 20 } }, smaBase))).toBe("space.slow.min");
    expect(fieldOf(() => buildSpace(sma, { slow: { min: 20, max: 50, step: 1.5 } }, smaBase))).toBe("space.slow.step");
    expect(fieldOf(() => buildSpace(sma, { mode: ["sideways"] }, smaBase))).toBe("space.mode.0");
    expect(fieldOf(() => buildSpace(sma, { mode: { min: 1, max: 2 } }, smaBase))).toBe("space.mode");
    expect(fieldOf(() => buildSpace(sma, { size: [0] }, smaBase))).toBe("space.size.0");
    expect(fieldOf(() => buildSpace(sma, { fast: [] }, smaBase))).toBe("space.fast");
    expect(fieldOf(() => buildSpace(sma, {}, smaBase))).toBe("space");
    expect(fieldOf(() => buildSpace(rsi, { lower: { min: 10, max: 30 } }, rsiBase))).toBe("space.lower.step"); // non-integer needs a step
    expect(fieldOf(() => buildSpace(rsi, { allowShort: ["maybe"] }, rsiBase))).toBe("space.allowShort.0");
    const orb = findStrategy("orb");
    expect(fieldOf(() => buildSpace(orb, { barMinutes: [1, 5] }, resolveParams(orb, {})))).toBe("space.barMinutes");
    expect(fieldOf(() => buildSpace(orb, { open: ["9h30"] }, resolveParams(orb, {})))).toBe("space.open.0");
  });

  it("accepts booleans as values or words", () => {
    const s = buildSpace(rsi, { allowShort: [true, "false"] }, rsiBase);
    expect(s.dims[0]!.values()).toEqual([true, false]);
  });

  it("enumerates the grid and skips what the strategy's check rejects (fast >= slow)", () => {
    const s = buildSpace(sma, { fast: { min: 5, max: 50, step: 5 }, slow: [10, 20, 30, 40, 50] }, smaBase);
    const g = enumerateGrid(s);
    // fast 5..50 (10 values) x slow 5 values = 50; valid pairs fast < slow: 1 + 3 + 5 + 7 + 9 = 25
    expect(g.points.length).toBe(25);
    expect(g.skipped).toBe(25);
    expect(g.skippedExamples[0]).toMatch(/fast \(\d+\) must be less than slow/);
    for (const idx of g.points) {
      const p = s.point(idx);
      expect(p.fast as number).toBeLessThan(p.slow as number);
    }
    expect(new Set(g.points.map((p) => s.key(p))).size).toBe(25);
    // first dimension slowest
    expect(g.points.slice(0, 3).map((i) => s.point(i))).toEqual([
      { fast: 5, slow: 10 },
      { fast: 5, slow: 20 },
      { fast: 5, slow: 30 },
    ]);
  });

  it("checks against the base parameters for the dimensions it does not vary", () => {
    const s = buildSpace(sma, { fast: [10, 20, 30, 40] }, { ...smaBase, slow: 25 });
    expect(enumerateGrid(s).points.map((i) => s.point(i))).toEqual([{ fast: 10 }, { fast: 20 }]);
  });

  it("refuses a grid above the limit with a clear message", () => {
    const s = buildSpace(sma, { fast: { min: 1, max: 200 }, slow: { min: 2, max: 200 } }, smaBase);
    expect(s.size).toBe(200 * 199);
    expect(() => enumerateGrid(s)).toThrow(/the grid has 39,800 points \(fast: 200, slow: 199\), more than the limit of 10,000/);
    expect(GRID_LIMIT).toBe(10_000);
  });
});
