import { describe, expect, it } from "vitest";
import { BUILTIN_INSTRUMENTS } from "../../data/instruments";
import { syntheticBars } from "../env/testdata";
import { TrainingSession } from "../train/session";
import { resumeRlTuning, RlTuneError, type RlTrial, type RlTuneProgress, type RlTuneResult, type RlTuneState, runRlTuning } from "./search";

const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
const bars = syntheticBars(3000, { seed: 3, start: 40_000, tick: 0.1 });
const deps = { loadBars: async () => ({ bars, instrument: btc }) };

const base = { env: "trading" as const, algo: "ppo" as const, steps: 1024, seed: 1, trading: { symbol: "BTC-PERP", timeframe: "1m" as const, window: 8, episodeLength: 256, contractSize: 0.01 } };
// numSteps 512 x 4 environments = a 2,048-step batch > 1,024 steps: the session rejects those trials
const space = { ppo: { learningRate: { min: 1e-4, max: 1e-2, count: 5, scale: "log" as const }, entCoef: [0, 0.01, 0.05], numSteps: [64, 128, 512], hiddenWidth: [16, 32] } };
const job = { base, space, population: 4, generations: 3, seed: 5, workers: 0 };

/** Everything but wall-clock time. */
const core = (ts: readonly RlTrial[]) => ts.map(({ seconds: _s, ...t }) => t);

function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => (p ??= f());
}

const progress: RlTuneProgress[] = [];
const states: RlTuneState[] = [];
/** The uninterrupted reference: 3 generations, in-process. */
const full = once(() => runRlTuning(job, deps, { onProgress: (p) => progress.push(p), onState: (s) => void states.push(JSON.parse(JSON.stringify(s)) as RlTuneState) }));

const dominates = (a: RlTrial, b: RlTrial) => {
  const x = a.objectives as { valSharpe: number; valMaxDrawdown: number };
  const y = b.objectives as { valSharpe: number; valMaxDrawdown: number };
  return x.valSharpe >= y.valSharpe && x.valMaxDrawdown <= y.valMaxDrawdown && (x.valSharpe > y.valSharpe || x.valMaxDrawdown < y.valMaxDrawdown);
};

describe("genetic RL hyperparameter search", () => {
  it("runs generations with validation objectives, reports progress and a state after each generation", async () => {
    const a = await full();
    expect(a.label).toBe("validation");
    expect(a.stopped).toBe(false);
    expect(a.generations.map((g) => g.generation)).toEqual([0, 1, 2, 3]);
    expect(a.generations.every((g) => g.label === "validation" && g.evaluated + g.cached === 4)).toBe(true);
    expect(a.evaluations).toBe(a.trials.length);
    expect(new Set(a.trials.map((t) => t.key)).size).toBe(a.trials.length); // cache by genome: no genome trained twice
    expect(a.trials.map((t) => t.id)).toEqual(a.trials.map((_, i) => i));
    for (const t of a.trials) {
      expect(t.seed).toBeGreaterThanOrEqual(0);
      if (t.status === "ok") {
        expect(t.objectives).toMatchObject({ label: "validation" });
        expect(Number.isFinite((t.objectives as { valSharpe: number }).valSharpe)).toBe(true);
      }
    }
    // the same genome always gets the same trial seed; different genomes different ones
    expect(new Set(a.trials.map((t) => t.seed)).size).toBe(a.trials.length);
    expect(states.map((s) => s.generation)).toEqual([0, 1, 2, 3]);
    const last = progress.at(-1)!;
    expect(last.total).toBe(16);
    expect(last.done).toBe(16);
    expect(progress.every((p, i) => i === 0 || p.done >= progress[i - 1]!.done)).toBe(true);
    expect(a.state.generation).toBe(3);
    expect(a.state.partial).toEqual([]);
  }, 60_000);

  it("keeps a non-dominated Pareto front over all trials and picks the best by validation Sharpe", async () => {
    const a = await full();
    const ok = a.trials.filter((t) => t.status === "ok");
    expect(a.pareto.length).toBeGreaterThan(0);
    for (const p of a.pareto) {
      expect(p.status).toBe("ok");
      expect(ok.some((t) => dominates(t, p))).toBe(false);
    }
    for (const t of ok) if (!a.pareto.includes(t)) expect(a.pareto.some((p) => dominates(p, t))).toBe(true);
    const sharpe = (t: RlTrial) => (t.objectives as { valSharpe: number }).valSharpe;
    expect(sharpe(a.best!)).toBe(Math.max(...ok.map(sharpe)));
    expect(a.pareto[0]).toBe(a.best);
    expect(a.objectives.map((o) => `${o.name}:${o.goal}:${o.label}`)).toEqual(["valSharpe:max:validation", "valMaxDrawdown:min:validation"]);
  }, 60_000);

  it("scores on the validation span only (never the test span)", async () => {
    const a = await full();
    // the reference split, from a session on the same base configuration
    const ref = (await TrainingSession.create(base, deps)).evaluate().trading!.split;
    const n = ref.validation.to - ref.validation.from;
    const ok = a.trials.filter((t) => t.status === "ok");
    expect(ok.length).toBeGreaterThan(0);
    for (const t of ok) {
      expect(t.validation!.label).toBe("validation");
      expect(t.validation!.metrics.bars).toBe(n);
      expect(t.validation!.metrics.startTs).toBe(bars.ts[ref.validation.from]);
      expect(t.validation!.metrics.endTs).toBe(bars.ts[ref.validation.to - 1]);
      expect(t.validation!.metrics.endTs).toBeLessThan(bars.ts[ref.test.from]!);
      expect(t.objectives).toEqual({ label: "validation", valSharpe: t.validation!.metrics.sharpe, valMaxDrawdown: t.validation!.metrics.maxDrawdownPct });
    }
  }, 60_000);

  it("is deterministic for a seed and resumes exactly: 2 generations + 1 resumed = 3 uninterrupted", async () => {
    const a = await full();
    const two = await runRlTuning({ ...job, generations: 2 }, deps);
    expect(core(two.trials)).toEqual(core(a.trials.slice(0, two.trials.length)));
    const saved = JSON.parse(JSON.stringify(two.state)) as RlTuneState;
    const resumed = await resumeRlTuning(saved, deps, {}, { generations: 3 });
    expect(core(resumed.trials)).toEqual(core(a.trials));
    expect(resumed.generations).toEqual(a.generations);
    expect(resumed.pareto.map((t) => t.id)).toEqual(a.pareto.map((t) => t.id));
    expect(resumed.state.population).toEqual(a.state.population);
    expect(resumed.state.rng).toEqual(a.state.rng);
    // a state only resumes the job it was made for
    await expect(resumeRlTuning({ ...saved, job: { ...saved.job, seed: 6 } }, deps)).rejects.toThrow(RlTuneError);
    await expect(resumeRlTuning({ ...saved, job: { ...saved.job, seed: 6 } }, deps)).rejects.toThrow(/^state\.fingerprint:/);
  }, 60_000);

  it("a stop in the middle of a generation keeps finished trials; the resumed run replays it exactly", async () => {
    const a = await full();
    let done = 0;
    const saved: RlTuneState[] = [];
    const stopped = await runRlTuning(job, deps, { onProgress: (p) => (done = p.done), shouldStop: () => done >= 6, onState: (s) => void saved.push(s) });
    expect(stopped.stopped).toBe(true);
    expect(stopped.state.generation).toBe(0);
    expect(stopped.state.partial.length).toBeGreaterThan(0);
    expect(saved.at(-1)).toEqual(stopped.state);
    const resumed = await resumeRlTuning(JSON.parse(JSON.stringify(stopped.state)) as RlTuneState, deps);
    expect(core(resumed.trials)).toEqual(core(a.trials));
    expect(resumed.generations).toEqual(a.generations);
    // the finished trials were reused, not trained again
    for (const p of stopped.state.partial) expect(resumed.trials[p.id]!.seconds).toBe(p.seconds);
  }, 60_000);

  it("worker threads give exactly the in-process trials and objectives", async () => {
    const a = await full();
    const pooled = await runRlTuning({ ...job, generations: 1, workers: 2 }, deps);
    expect(pooled.fallback).toBeUndefined();
    expect(pooled.workers).toBe(2);
    expect(core(pooled.trials)).toEqual(core(a.trials.slice(0, pooled.trials.length)));
    expect(pooled.generations).toEqual(a.generations.slice(0, 2));
  }, 60_000);

  it("reports a failing trial instead of throwing (in-process and in workers)", async () => {
    const failJob = { base, space: { ppo: { numSteps: [64, 512], entCoef: [0, 0.01] } }, population: 4, generations: 0, seed: 2 };
    for (const workers of [0, 2]) {
      const r: RlTuneResult = await runRlTuning({ ...failJob, workers }, deps);
      expect(r.trials.length).toBe(4);
      const bad = r.trials.filter((t) => t.status === "failed");
      expect(bad.length).toBe(2);
      expect(r.failed).toBe(2);
      for (const t of bad) {
        expect(t.hyperparams.numSteps).toBe(512);
        expect(t.objectives).toBeNull();
        expect(t.error).toMatch(/totalTimesteps \(1024\) must be at least one batch/);
      }
      expect(r.pareto.every((t) => t.status === "ok")).toBe(true);
      expect(r.best!.status).toBe("ok");
    }
  }, 60_000);

  it("CartPole: the greedy evaluation return is the single objective", async () => {
    const r = await runRlTuning({ base: { env: "cartpole", algo: "ppo", steps: 1024, seed: 1 }, space: { ppo: { learningRate: [1e-3, 3e-3], entCoef: [0, 0.01] } }, population: 2, generations: 1, seed: 3, workers: 0 }, {});
    expect(r.objectives.map((o) => o.name)).toEqual(["evalReturn"]);
    const ret = (t: RlTrial) => (t.objectives as { evalReturn: number }).evalReturn;
    expect(r.trials.every((t) => t.status === "ok" && t.objectives!.label === "validation" && ret(t) > 0 && t.validation === undefined)).toBe(true);
    const max = Math.max(...r.trials.map(ret));
    expect(r.pareto.map(ret).every((x) => x === max)).toBe(true);
    expect(ret(r.best!)).toBe(max);
  }, 60_000);

  it("refuses a trading job without data before anything starts", async () => {
    await expect(runRlTuning(job, {})).rejects.toThrow(/^base\.trading:/);
    await expect(runRlTuning(job, { loadBars: async () => Promise.reject(new Error("no stored bars for BTC-PERP 1m")) })).rejects.toThrow(/^base\.trading\.symbol: no stored bars/);
  });
});
