import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareBacktest } from "../backtest/runner";
import { createEvaluator, inProcessEvaluator, shareBars, WorkerPool } from "./pool";
import { randomWalkFixture } from "./test-data";
import type { TrialBase, TrialOutcome, TrialTask } from "./trial";

let fixture: { dir: string } | undefined;
let base: TrialBase;
let pool: WorkerPool;

beforeAll(async () => {
  const fx = (fixture = await randomWalkFixture(20_000, 13));
  const { create: _c, dataInfo: _d, ...rest } = await prepareBacktest(fx.backtest);
  base = rest;
  pool = await WorkerPool.create(base, { size: 2 });
});

afterAll(async () => {
  await pool?.close();
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

const noTime = (o: TrialOutcome) => (o.ok ? { ...o, elapsedMs: 0 } : o);

const TASKS: TrialTask[] = [
  { params: { fast: 5, slow: 20 }, buckets: 64 },
  { params: { fast: 10, slow: 40, mode: "long_short" }, buckets: 64 },
  { params: { fast: 3, slow: 100 } },
  { params: { fast: 7, slow: 30 }, range: { from: 4000, to: 9000 }, warmupBars: 150, keepCurve: true },
  { params: { fast: 20, slow: 60, size: 2 }, buckets: 2000 },
  { params: { fast: 2, slow: 8, mode: "long_short" }, range: { from: 0, to: 777 }, keepCurve: true },
];

describe("worker pool", () => {
  it("gives exactly the in-process results (metrics, return stats, buckets, curves)", async () => {
    expect(pool.workers).toBe(2);
    const a = await pool.run(TASKS);
    const b = await inProcessEvaluator(base).run(TASKS);
    expect(a.every((o) => o.ok)).toBe(true);
    expect(a.map(noTime)).toEqual(b.map(noTime));
    const c = a[3]!;
    if (!c.ok) throw new Error("failed");
    expect(c.curve!.equity.length).toBe(5000);
    expect(c.curve!.ts[0]).toBe(base.bars.ts[4000]);
  });

  it("reports failing trials as failed outcomes and keeps going", async () => {
    const tasks: TrialTask[] = [{ params: { fast: -5 } }, { params: { fast: 30, slow: 10 } }, { params: { fast: 5, slow: 20 }, range: { from: 10, to: 99_999 } }, { params: { nope: 1 } }, { params: { fast: 5, slow: 20 } }];
    const seen: number[] = [];
    const out = await pool.run(tasks, { onResult: (i) => seen.push(i) });
    expect(out.map((o) => (o.ok ? "ok" : o.error))).toEqual([
      "fast must be >= 1, got -5",
      "fast (30) must be less than slow (10)",
      "bar range [10, 99999) is outside the data (0..20000)",
      expect.stringMatching(/^unknown parameter 'nope' for strategy sma-cross/),
      "ok",
    ]);
    expect(out[0]!.params).toEqual({ fast: -5 });
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("fails the trial of a worker that dies, replaces the worker, and finishes the rest", async () => {
    const tasks: TrialTask[] = Array.from({ length: 16 }, (_, i) => ({ params: { fast: 2 + i, slow: 50 } }));
    let killed = false;
    const slots = (pool as unknown as { slots: { worker: { terminate(): Promise<number> }; pending: unknown }[] }).slots;
    const out = await pool.run(tasks, {
      onResult: () => {
        if (killed) return;
        killed = true;
        for (const s of slots) if (s.pending) void s.worker.terminate();
      },
    });
    expect(out.length).toBe(16);
    const failed = out.filter((o) => !o.ok);
    expect(failed.length).toBeLessThanOrEqual(2);
    for (const f of failed) expect(!f.ok && f.error).toMatch(/worker exited with code/);
    expect(out.filter((o) => o.ok).length).toBe(16 - failed.length);
    // the pool is whole again
    const again = await pool.run(TASKS.slice(0, 2));
    expect(again.every((o) => o.ok)).toBe(true);
    expect(pool.workers).toBe(2);
  });

  it("stops when asked: unfinished trials come back cancelled", async () => {
    const tasks: TrialTask[] = Array.from({ length: 40 }, (_, i) => ({ params: { fast: 2 + i, slow: 100 } }));
    let done = 0;
    const out = await pool.run(tasks, { onResult: () => void done++, shouldStop: () => done >= 3 });
    const cancelled = out.filter((o) => !o.ok && o.cancelled);
    expect(cancelled.length).toBeGreaterThan(0);
    expect(out.filter((o) => o.ok).length).toBeLessThan(40);
    expect(out.every((o) => o.ok || o.cancelled)).toBe(true);
    // and it still works afterwards
    expect((await pool.run(TASKS.slice(0, 1)))[0]!.ok).toBe(true);
  });

  it("in-process (size 0) and a closed pool", async () => {
    const { evaluator } = await createEvaluator(base, 0);
    expect(evaluator.workers).toBe(0);
    const p = await WorkerPool.create(base, { size: 1 });
    await p.close();
    await expect(p.run(TASKS)).rejects.toThrow(/closed/);
  });

  it("shares the bars instead of copying them per worker", () => {
    const s = shareBars(base.bars);
    expect(s.ts.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(s.close.buffer).toBe(s.ts.buffer);
    expect(Array.from(s.close.subarray(0, 5))).toEqual(Array.from(base.bars.close.subarray(0, 5)));
    expect(s.length).toBe(20_000);
  });
});
