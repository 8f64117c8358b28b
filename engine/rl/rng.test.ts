import { describe, expect, it } from "vitest";
import { Rng } from "./rng";

describe("Rng (xoshiro128**)", () => {
  it("matches the reference C implementation for state {1, 2, 3, 4}", () => {
    const r = new Rng(1, 2, 3, 4);
    const first = Array.from({ length: 6 }, () => r.nextUint32());
    // from xoshiro128starstar.c (Blackman & Vigna), compiled with gcc
    expect(first).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
    for (let i = 0; i < 994; i++) r.nextUint32();
    expect(r.nextUint32()).toBe(136054147);
  });

  it("is deterministic per (seed, path) and gives different streams for different paths", () => {
    const a = Rng.create(42),
      b = Rng.create(42);
    const xs = Array.from({ length: 100 }, () => a.uniform());
    expect(Array.from({ length: 100 }, () => b.uniform())).toEqual(xs);
    const streams = [Rng.create(42, 0), Rng.create(42, 1), Rng.create(43, 0), Rng.create(42, 0, 0), Rng.create(42), Rng.create(42, "a"), Rng.create(42, "b"), Rng.create(42, "a", 0), Rng.create(42, "0")].map((r) => Array.from({ length: 8 }, () => r.nextUint32()).join(","));
    expect(new Set(streams).size).toBe(streams.length);
    // large and negative seeds are accepted and distinct
    expect(Rng.create(2 ** 40).nextUint32()).not.toBe(Rng.create(0).nextUint32());
    expect(Rng.create(-1).nextUint32()).not.toBe(Rng.create(1).nextUint32());
    expect(() => Rng.create(NaN)).toThrow(/finite/);
  });

  it("split() advances the parent, derive() does not; children are deterministic", () => {
    const p1 = Rng.create(7),
      p2 = Rng.create(7);
    const c1 = p1.split(),
      c2 = p2.split();
    expect(c1.nextUint32()).toBe(c2.nextUint32());
    expect(p1.nextUint32()).toBe(p2.nextUint32());
    const q = Rng.create(9);
    const before = q.getState();
    const d0 = q.derive(0).nextUint32(),
      d1 = q.derive(1).nextUint32();
    expect(d0).not.toBe(d1);
    expect(q.getState()).toEqual(before);
    expect(q.derive(0).nextUint32()).toBe(d0);
  });

  it("uniform, normal and int have the right ranges and moments", () => {
    const r = Rng.create(123);
    const n = 200_000;
    let su = 0,
      mn = 1,
      mx = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      su += u;
      mn = Math.min(mn, u);
      mx = Math.max(mx, u);
    }
    expect(mn).toBeGreaterThanOrEqual(0);
    expect(mx).toBeLessThan(1);
    expect(Math.abs(su / n - 0.5)).toBeLessThan(0.005);
    let s1 = 0,
      s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s1 += z;
      s2 += z * z;
    }
    expect(Math.abs(s1 / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    // chi-square on int(6)
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(6)]!++;
    const chi = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi).toBeLessThan(20.5); // p ~ 0.001 for 5 dof
    expect(() => r.int(0)).toThrow();
    for (let i = 0; i < 100; i++) expect(r.int(1)).toBe(0);
  });

  it("getState/setState continue the stream exactly, including the cached normal", () => {
    const r = Rng.create(5);
    r.normal(); // leaves a cached spare
    const st = r.getState();
    expect(st.spare).not.toBeNull();
    const expected = [r.normal(), r.normal(), r.uniform(), r.int(1000)];
    const s = Rng.fromState(JSON.parse(JSON.stringify(st)));
    expect([s.normal(), s.normal(), s.uniform(), s.int(1000)]).toEqual(expected);
  });

  it("shuffle produces a permutation, deterministically", () => {
    const a = Int32Array.from({ length: 50 }, (_, i) => i);
    const b = a.slice();
    Rng.create(1).shuffle(a);
    Rng.create(1).shuffle(b);
    expect(a).toEqual(b);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...a]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
