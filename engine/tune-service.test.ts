import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/server/testing/databases";
import { BUILTIN_INSTRUMENTS } from "./data/instruments";
import { EventBus, type EngineEvent, type TuneProgressData } from "./events";
import { syntheticBars } from "./rl/env/testdata";
import { type RlTrial, type RlTuneResult, type RlTuneState, runRlTuning } from "./rl/tune/search";
import { openSql, type Sql } from "./store/sql";
import { getTuning, listTunings, updateTuning } from "./store/tuning";
import { TuneService } from "./tune-service";

/** A tiny CartPole search: 2 individuals, 1 generation after the initial one, 2,048 steps a trial, in-process. */
const job = { base: { env: "cartpole", algo: "ppo", steps: 2048, seed: 1 }, space: { ppo: { learningRate: [1e-3, 2.5e-3, 5e-3], entCoef: [0, 0.01, 0.02] } }, population: 2, generations: 1, seed: 3, workers: 0 };

/** Everything but wall-clock time. */
const core = (ts: readonly RlTrial[]) => ts.map(({ seconds: _s, ...t }) => t);

describe("TuneService", () => {
  let t: TestDatabase;
  let sql: Sql;
  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
    sql = openSql(t.url);
  });
  afterAll(async () => {
    await sql.close();
    await t.dispose();
  });

  const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
  const bars = syntheticBars(3000, { seed: 3, start: 40_000, tick: 0.1 });
  const loadBars = async (symbol: string, timeframe: string) => {
    if (symbol !== "BTC-PERP") throw new Error(`no stored bars for ${symbol} ${timeframe}`);
    return { bars, instrument: btc };
  };

  function service() {
    const bus = new EventBus(10_000, 1);
    const events: EngineEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const svc = new TuneService(sql, bus, pino({ level: "silent" }), { loadBars });
    const progress = (id: string) => events.filter((e) => e.type === "tune.progress" && e.data.tuneId === id).map((e) => e.data as TuneProgressData);
    return { svc, bus, events, progress };
  }

  let reference: RlTuneResult | null = null;

  it("runs a search to the end: progress events, the state after each generation, the result stored", async () => {
    const { svc, progress } = service();
    const res = await svc.handle({ type: "tune.start", job, userId: "u1" });
    expect(res?.status).toBe(200);
    const tuneId = (res!.body as { tuneId: string }).tuneId;
    await svc.idle();
    const row = (await getTuning(sql, tuneId))!;
    expect(row).toMatchObject({ status: "done", generation: 1, done: 4, total: 4, error: null, createdById: "u1", hasState: true, hasResult: true });
    expect(row.finishedAt).not.toBeNull();
    const result = row.result as RlTuneResult;
    expect(result.label).toBe("validation");
    expect(result.stopped).toBe(false);
    expect(result.generations.map((g) => g.generation)).toEqual([0, 1]);
    expect(result.trials.length).toBeGreaterThanOrEqual(2);
    expect(result.trials.every((x) => x.status === "ok" && x.objectives?.label === "validation")).toBe(true);
    expect(result.pareto.length).toBeGreaterThan(0);
    expect(result).not.toHaveProperty("state"); // the state has its own column
    expect((row.state as RlTuneState).generation).toBe(1);
    expect((row.job as { elite: number }).elite).toBe(1); // the validated job, defaults applied
    const ev = progress(tuneId);
    expect(ev[0]).toMatchObject({ status: "queued", done: 0, total: 4 });
    expect(ev.some((e) => e.status === "running")).toBe(true);
    expect(ev.at(-1)).toMatchObject({ status: "done", done: 4, total: 4, generation: 1, error: null });
    expect(ev.at(-1)!.front.map((p) => p.id)).toEqual(result.pareto.map((p) => p.id));
    expect(ev.every((e, i) => i === 0 || e.done >= ev[i - 1]!.done)).toBe(true);
    expect((await listTunings(sql)).find((r) => r.id === tuneId)).toMatchObject({ status: "done" });
    reference = result;
  }, 60_000);

  it("stops, survives an engine restart, and resumes from the stored state to the uninterrupted result", async () => {
    const { svc, bus } = service();
    const res = await svc.handle({ type: "tune.start", job });
    const tuneId = (res!.body as { tuneId: string }).tuneId;
    // stop as soon as a trial has finished
    const off = bus.subscribe((e) => {
      if (e.type === "tune.progress" && e.data.tuneId === tuneId && e.data.status === "running" && e.data.done >= 1) void svc.handle({ type: "tune.stop", tuneId });
    });
    await svc.idle();
    off();
    const stopped = (await getTuning(sql, tuneId))!;
    expect(stopped.status).toBe("stopped");
    expect(stopped.hasState).toBe(true);
    const state = stopped.state as RlTuneState;
    const finished = [...state.trials, ...state.partial];
    expect(finished.length).toBeGreaterThan(0);
    expect((stopped.result as RlTuneResult).stopped).toBe(true);
    expect(await svc.handle({ type: "tune.stop", tuneId })).toMatchObject({ status: 404 });

    // the engine dies while it runs: the next engine marks it stopped, resume continues it
    await updateTuning(sql, tuneId, { status: "running" });
    const next = service();
    await next.svc.recover();
    expect((await getTuning(sql, tuneId))!.status).toBe("stopped");
    const resumed = await next.svc.handle({ type: "tune.resume", tuneId });
    expect(resumed).toMatchObject({ status: 200, body: { tuneId, fromGeneration: state.generation + 1, reusedTrials: state.partial.length } });
    await next.svc.idle();
    const row = (await getTuning(sql, tuneId))!;
    expect(row).toMatchObject({ status: "done", generation: 1, done: 4, total: 4, error: null });
    const result = row.result as RlTuneResult;
    expect(core(result.trials)).toEqual(core(reference!.trials));
    // the trials finished before the stop were kept, not trained again
    for (const f of finished) expect(result.trials.find((x) => x.key === f.key)!.seconds).toBe(f.seconds);
    expect(next.progress(tuneId).at(-1)).toMatchObject({ status: "done" });

    // a finished search resumes only to be extended
    expect(await next.svc.handle({ type: "tune.resume", tuneId })).toMatchObject({ status: 400, body: { field: "generations" } });
    expect(await next.svc.handle({ type: "tune.resume", tuneId: "nope" })).toMatchObject({ status: 404 });
  }, 60_000);

  it("with worker threads a stop is prompt: the trials in flight are cancelled, the finished ones kept; resume gives the uninterrupted result", async () => {
    // 4 PPO iterations a trial (1,024-step batches); 4 distinct genomes in the initial population, 2 workers
    const trading = { base: { env: "trading", algo: "ppo", steps: 4096, seed: 1, trading: { symbol: "BTC-PERP", timeframe: "1m", window: 8, episodeLength: 256, contractSize: 0.01 } }, space: { ppo: { learningRate: { min: 1e-4, max: 1e-2, count: 9, scale: "log" }, entCoef: [0, 0.005, 0.01, 0.02, 0.05] } }, population: 4, generations: 1, seed: 4 };
    const inProcess = await runRlTuning({ ...trading, workers: 0 }, { loadBars });
    expect(inProcess.generations[0]).toMatchObject({ evaluated: 4, cached: 0 });
    const { svc, bus } = service();
    const tuneId = ((await svc.handle({ type: "tune.start", job: { ...trading, workers: 2 } }))!.body as { tuneId: string }).tuneId;
    // stop as soon as the first trial has finished: the other worker is in the middle of its trial
    const off = bus.subscribe((e) => {
      if (e.type === "tune.progress" && e.data.tuneId === tuneId && e.data.status === "running" && e.data.done >= 1) void svc.handle({ type: "tune.stop", tuneId });
    });
    await svc.idle();
    off();
    const stopped = (await getTuning(sql, tuneId))!;
    expect(stopped.status).toBe("stopped");
    const state = stopped.state as RlTuneState;
    expect(state.generation).toBe(-1); // no generation completed
    // the search did not wait for the generation's trials (it would have had all 4): the finished ones are kept
    expect(state.trials).toEqual([]);
    expect(state.partial.length).toBeGreaterThanOrEqual(1);
    expect(state.partial.length).toBeLessThan(4);
    expect(state.partial.every((t) => t.status === "ok")).toBe(true);
    expect(await svc.handle({ type: "tune.resume", tuneId })).toMatchObject({ status: 200, body: { fromGeneration: 0, reusedTrials: state.partial.length } });
    await svc.idle();
    const row = (await getTuning(sql, tuneId))!;
    expect(row.status).toBe("done");
    const result = row.result as RlTuneResult;
    expect(core(result.trials)).toEqual(core(inProcess.trials));
    for (const p of state.partial) expect(result.trials.find((x) => x.key === p.key)!.seconds).toBe(p.seconds);
    expect(result.workers).toBe(2);
  }, 120_000);

  it("a search stopped while queued never runs", async () => {
    const { svc } = service();
    const a = ((await svc.handle({ type: "tune.start", job }))!.body as { tuneId: string }).tuneId;
    const b = ((await svc.handle({ type: "tune.start", job }))!.body as { tuneId: string }).tuneId;
    expect(await svc.handle({ type: "tune.stop", tuneId: b })).toMatchObject({ status: 200 });
    expect(await svc.handle({ type: "tune.stop", tuneId: a })).toMatchObject({ status: 200 });
    await svc.idle();
    expect(await getTuning(sql, b)).toMatchObject({ status: "stopped", hasState: false, done: 0 });
    expect((await getTuning(sql, a))!.status).toBe("stopped");
  }, 60_000);

  it("refuses a bad job with 400, naming the field, before anything is stored", async () => {
    const { svc } = service();
    const before = (await listTunings(sql)).length;
    const cases: [unknown, string][] = [
      [{ ...job, population: 1 }, "population"],
      [{ ...job, space: { ppo: { learningRate: [1e-3, 3] } } }, "space.ppo.learningRate.1"],
      [{ ...job, space: { ppo: { speed: [1] } } }, "space.ppo.speed"],
      [{ ...job, base: { ...job.base, steps: -5 } }, "base.steps"],
      [{ ...job, elite: 3 }, "elite"],
      [{ ...job, base: { env: "trading", algo: "ppo", steps: 2048, trading: { symbol: "NOPE", timeframe: "1m" } } }, "base.trading.symbol"],
    ];
    for (const [bad, field] of cases) {
      const res = await svc.handle({ type: "tune.start", job: bad });
      expect(res, field).toMatchObject({ status: 400, body: { field } });
      expect((res!.body as { error: string }).error.startsWith(`${field}:`), (res!.body as { error: string }).error).toBe(true);
    }
    expect(await svc.handle({ type: "tune.start" })).toMatchObject({ status: 400, body: { field: "job" } });
    expect(await svc.handle({ type: "tune.stop" })).toMatchObject({ status: 400 });
    expect(await svc.handle({ type: "train.start" })).toBeUndefined();
    expect((await listTunings(sql)).length).toBe(before);
  });
});
