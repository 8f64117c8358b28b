import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseTrainConfig } from "../train/config";
import { RlWorkerPool } from "./pool";
import type { TrialOutcome } from "./trial";

/** PPO on CartPole through the ONNX training graph: 2M steps is minutes of training, far more than a test waits. */
const long = (seed: number) => parseTrainConfig({ env: "cartpole", algo: "ppo", steps: 2_000_000, seed, ppo: { backend: "onnx" } });
const short = parseTrainConfig({ env: "cartpole", algo: "ppo", steps: 2048, seed: 7, ppo: { backend: "onnx" } });

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
type Failed = Extract<TrialOutcome, { ok: false }>;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("RL tuning worker pool: cooperative stop", () => {
  it("a stop cancels ONNX trials in flight at their next iteration; the process survives and the workers are reused, then exit by themselves", async () => {
    // Worker.terminate() in the middle of an ORT call aborts the whole process: the pool must never call it here
    const terminate = vi.spyOn(Worker.prototype, "terminate");
    const pool = await RlWorkerPool.create(null, { size: 2 });
    try {
      const configs = [long(1), long(2), long(3)];
      const reported: number[] = [];
      const t0 = performance.now();
      const out = await pool.run(configs, {
        // shortly after both trials have started training
        shouldStop: () => performance.now() - t0 > 3000,
        onResult: (i) => reported.push(i),
      });
      expect(out).toHaveLength(3);
      for (const o of out) expect(o).toMatchObject({ ok: false, error: "cancelled", cancelled: true });
      // the two trials in flight had trained and stopped far before their totals; the third never started
      for (const i of [0, 1]) {
        const steps = (out[i] as Failed).steps;
        expect(steps, `trial ${i}`).toBeGreaterThan(0);
        expect(steps, `trial ${i}`).toBeLessThan(configs[i]!.steps);
      }
      expect((out[2] as Failed).steps).toBeUndefined();
      expect(reported).toEqual([]); // cancelled trials are not results

      // still alive, and the same workers (none replaced) train again after the stop
      const again = await pool.run([short, { ...short, seed: 8 }]);
      expect(again.map((o) => o.ok)).toEqual([true, true]);
      expect(again.map((o) => (o.ok ? o.steps : 0))).toEqual([2048, 2048]);
    } finally {
      await pool.close();
    }
    expect(terminate).not.toHaveBeenCalled();
    expect(process.exitCode ?? 0).toBe(0);
  }, 120_000);

  it("close() during a run stops the trials in flight cooperatively; run() resolves with them cancelled", async () => {
    const terminate = vi.spyOn(Worker.prototype, "terminate");
    const pool = await RlWorkerPool.create(null, { size: 2 });
    const running = pool.run([long(4), long(5), long(6)]);
    await delay(2500);
    await pool.close();
    const out = await running;
    expect(out.map((o) => o.ok === false && o.cancelled === true)).toEqual([true, true, true]);
    for (const i of [0, 1]) expect((out[i] as Failed).steps ?? 0).toBeLessThan(2_000_000);
    expect(terminate).not.toHaveBeenCalled();
    await expect(pool.run([short])).rejects.toThrow(/closed/);
  }, 120_000);

  it("a worker that does not answer a stop in time is retired, not terminated: its trial is cancelled, a fresh worker takes its place", async () => {
    const terminate = vi.spyOn(Worker.prototype, "terminate");
    // 1 ms: far shorter than a training iteration, so the answer always comes too late
    const pool = await RlWorkerPool.create(null, { size: 1, stopTimeoutMs: 1 });
    const workers = () => (pool as unknown as { slots: { worker: Worker }[] }).slots.map((s) => s.worker);
    try {
      const first = workers()[0];
      const t0 = performance.now();
      const out = await pool.run([long(9)], { shouldStop: () => performance.now() - t0 > 1500 });
      expect(out[0]).toMatchObject({ ok: false, cancelled: true });
      expect((out[0] as Failed).error).toMatch(/^cancelled \(the worker did not answer the stop within 1 ms\)/);
      const again = await pool.run([short]);
      expect(again[0]).toMatchObject({ ok: true, steps: 2048 });
      expect(workers()).toHaveLength(1);
      expect(workers()[0]).not.toBe(first);
    } finally {
      await pool.close(); // also waits for the retired worker to exit by itself
    }
    expect(terminate).not.toHaveBeenCalled();
  }, 120_000);

  it("a worker that dies fails its current trial (not cancelled) and is replaced", async () => {
    // the TypeScript backend: no ORT call to interrupt, so killing the worker from outside is safe here
    const tsLong = parseTrainConfig({ env: "cartpole", algo: "ppo", steps: 2_000_000, seed: 1, ppo: { backend: "ts" } });
    const tsShort = parseTrainConfig({ env: "cartpole", algo: "ppo", steps: 2048, seed: 2, ppo: { backend: "ts" } });
    const pool = await RlWorkerPool.create(null, { size: 1 });
    try {
      const running = pool.run([tsLong, tsShort]);
      await delay(1000);
      await (pool as unknown as { slots: { worker: Worker }[] }).slots[0]!.worker.terminate();
      const out = await running;
      expect(out[0]).toMatchObject({ ok: false, error: expect.stringMatching(/^worker exited with code/) as unknown });
      expect((out[0] as Failed).cancelled).toBeUndefined();
      expect(out[1]).toMatchObject({ ok: true, steps: 2048 });
    } finally {
      await pool.close();
    }
  }, 120_000);
});
