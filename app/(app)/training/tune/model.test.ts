import { describe, expect, it } from "vitest";
import { parseRlTuneJob, RlTuneError } from "@/engine/rl/tune/search";
import { buildRlSpace, DQN_HYPERPARAMS, PPO_HYPERPARAMS, RlSpaceError } from "@/engine/rl/tune/space";
import {
  type TuneFormValues,
  TUNE_HYPERPARAMS,
  applyTuneEvent,
  asResult,
  buildTuneJob,
  currentEvent,
  dimSpec,
  fmtHyper,
  fmtSpec,
  frontOf,
  initialTuneForm,
  parseTuneFrame,
  plannedTrials,
  progressView,
  sortTrialsBest,
  spaceSize,
  toJobView,
  tuneErrorsFromServer,
  tuneFormKeyOf,
  type TrialView,
} from "./model";

const norm = (defs: readonly { name: string; type: string; min?: number; max?: number; minOpen?: boolean; options?: readonly string[] }[]) =>
  defs.map((d) => ({ name: d.name, type: d.type, min: d.min, max: d.max, minOpen: d.minOpen === true, options: d.options ? [...d.options] : undefined }));

const form = (patch: (v: TuneFormValues) => void = () => {}): TuneFormValues => {
  const v = initialTuneForm();
  patch(v);
  return v;
};
const jobOf = (v: TuneFormValues) => {
  const r = buildTuneJob(v);
  if ("errors" in r) throw new Error(JSON.stringify(r.errors));
  return r.job;
};
/** The field the engine names for a job it refuses. */
const engineField = (job: unknown): string => {
  try {
    parseRlTuneJob(job);
  } catch (e) {
    if (e instanceof RlTuneError || e instanceof RlSpaceError) return e.field;
    throw e;
  }
  return "";
};

describe("the search form", () => {
  it("mirrors the engine's hyperparameter tables (names, order, types, bounds, options)", () => {
    expect(norm(TUNE_HYPERPARAMS.ppo)).toEqual(norm(PPO_HYPERPARAMS));
    expect(norm(TUNE_HYPERPARAMS.dqn)).toEqual(norm(DQN_HYPERPARAMS));
  });

  it("builds a job the engine accepts, for both algorithms and both environments; sizes match the engine's space", () => {
    for (const algo of ["ppo", "dqn"] as const) {
      for (const env of ["cartpole", "trading"] as const) {
        const v = form((x) => {
          x.algo = algo;
          x.env = env;
          x.symbol = "BTC-PERP";
          x.timeframe = "1m";
        });
        const job = jobOf(v);
        const { job: parsed, space } = parseRlTuneJob(job);
        expect(parsed.base).toMatchObject({ env, algo, steps: 20_000 });
        if (env === "trading") expect(parsed.base.trading).toMatchObject({ symbol: "BTC-PERP", timeframe: "1m" });
        expect(spaceSize(v)).toBe(space.size);
        expect(plannedTrials(v)).toBe(8 * 5);
        expect(Object.keys(job.space)).toEqual([algo]);
      }
    }
    // the preset's learning rate: 5 log-spaced values from 1e-4 to 1e-2
    const lr = buildRlSpace(jobOf(form()).space, parseRlTuneJob(jobOf(form())).job.base).dims.find((d) => d.name === "learningRate")!;
    expect(lr.values).toEqual([1e-4, 3.162e-4, 1e-3, 3.162e-3, 1e-2]);
  });

  it("every hyperparameter turned on with its shown default is accepted by the engine", () => {
    for (const algo of ["ppo", "dqn"] as const) {
      const v = form((x) => {
        x.algo = algo;
        // (PPO's network lists mlp and attention; attention needs a trading base, this form is CartPole's)
        for (const [name, f] of Object.entries(x.dims[algo])) f.on = (f.mode === "range" || f.list.trim() !== "") && name !== "network";
      });
      const job = jobOf(v);
      expect(engineField(job)).toBe("");
      expect(Object.keys(job.space[algo]!).length).toBeGreaterThan(TUNE_HYPERPARAMS[algo].length - 3);
    }
  });

  it("lists and ranges: numbers, booleans, options, counts, steps, log scale", () => {
    const d = (name: string) => TUNE_HYPERPARAMS.ppo.find((x) => x.name === name)!;
    const base = { on: true, mode: "list" as const, list: "", min: "", max: "", count: "3", step: "", log: false };
    expect(dimSpec(d("gamma"), { ...base, list: "0.9, 0.99 0.999" })).toEqual({ spec: [0.9, 0.99, 0.999] });
    expect(dimSpec(d("normAdv"), { ...base, list: "true,false" })).toEqual({ spec: [true, false] });
    expect(dimSpec(d("activation"), { ...base, list: "relu" })).toEqual({ spec: ["relu"] });
    expect(dimSpec(d("numSteps"), { ...base, mode: "range", min: "64", max: "256", step: "64" })).toEqual({ spec: { min: 64, max: 256, step: 64 } });
    expect(dimSpec(d("learningRate"), { ...base, mode: "range", min: "1e-4", max: "1e-2", count: "3", log: true })).toEqual({ spec: { min: 1e-4, max: 1e-2, count: 3, scale: "log" } });
    expect(dimSpec(d("entCoef"), { ...base, mode: "range", min: "0", max: "0.1", count: "3" })).toEqual({ spec: { min: 0, max: 0.1, count: 3 } });
    expect(dimSpec(d("learningRate"), { ...base, mode: "range", min: "0", max: "1e-2", count: "3", log: true })).toMatchObject({ error: expect.stringMatching(/^space\.learningRate: a log-scale range needs min > 0/) });
    expect(dimSpec(d("numSteps"), { ...base, list: "64, 1.5" })).toMatchObject({ error: expect.stringMatching(/^space\.numSteps: 1\.5 is not a whole number/) });
    expect(dimSpec(d("normAdv"), { ...base, list: "yes" })).toMatchObject({ error: expect.stringMatching(/not true or false/) });
    expect(dimSpec(d("activation"), { ...base, list: "gelu" })).toMatchObject({ error: expect.stringMatching(/not one of tanh, relu/) });
    expect(dimSpec(d("gamma"), { ...base, list: " " })).toMatchObject({ error: expect.stringMatching(/at least one value/) });
  });

  it("catches values that are not numbers, per field; an empty space", () => {
    const r = buildTuneJob(
      form((x) => {
        x.steps = "many";
        x.ga.population = "";
        x.ga.mutationRate = "x";
        x.ga.generations = "1.5";
        x.dims.ppo.entCoef!.list = "0, a";
      }),
    );
    expect("errors" in r && r.errors).toMatchObject({ "base.steps": expect.any(String), population: expect.any(String), mutationRate: expect.any(String), generations: expect.any(String), "space.entCoef": expect.any(String) });
    const none = buildTuneJob(form((x) => Object.values(x.dims.ppo).forEach((f) => (f.on = false))));
    expect("errors" in none && none.errors.space).toMatch(/at least one hyperparameter/);
    const noSeries = buildTuneJob(form((x) => (x.env = "trading")));
    expect("errors" in noSeries && noSeries.errors["base.trading"]).toMatch(/stored series/);
    // blank optional settings are left to the engine's defaults
    const j = jobOf(form());
    expect(j).not.toHaveProperty("elite");
    expect(j).not.toHaveProperty("workers");
    expect(jobOf(form((x) => ((x.ga.elite = "2"), (x.ga.workers = "0"))))).toMatchObject({ elite: 2, workers: 0 });
  });

  it("puts the engine's refusals at the field they name", () => {
    const ok = jobOf(form());
    const cases: [unknown, string][] = [
      [{ ...ok, population: 1 }, "population"],
      [{ ...ok, space: { ppo: { learningRate: [1e-3, 3] } } }, "space.learningRate"],
      [{ ...ok, space: { ppo: { entCoef: { min: 0, max: 1 } } } }, "space.entCoef"],
      [{ ...ok, space: { dqn: { gamma: [0.9] } } }, "space"],
      [{ ...ok, base: { ...ok.base, steps: 0 } }, "base.steps"],
      [{ ...ok, base: { ...ok.base, env: "trading", trading: { symbol: "X", timeframe: "7m" } } }, "base.trading"],
      [{ ...ok, elite: 100 }, "elite"],
      [{ ...ok, mutationRate: 2 }, "mutationRate"],
      [{ ...ok, workers: -1 }, "workers"],
    ];
    for (const [job, key] of cases) {
      const field = engineField(job);
      expect(field, JSON.stringify(job)).not.toBe("");
      expect(tuneFormKeyOf(field), field).toBe(key);
      expect(tuneErrorsFromServer({ message: `${field}: refused`, data: { field } })).toEqual({ [key]: `${field}: refused` });
      expect(tuneErrorsFromServer({ message: `${field}: refused` })).toEqual({ [key]: `${field}: refused` });
    }
    expect(tuneFormKeyOf("job")).toBe("form");
    expect(tuneErrorsFromServer({ message: "down", data: { code: "SERVICE_UNAVAILABLE" } }).form).toMatch(/Engine offline/);
    expect(tuneErrorsFromServer({ message: "Forbidden", data: { code: "FORBIDDEN" } })).toEqual({ form: "Forbidden" });
    expect(tuneErrorsFromServer({ message: "bad", data: { zodError: { fieldErrors: { job: ["Required"] } } } })).toEqual({ form: "job: Required" });
  });
});

describe("stream frames and stored rows", () => {
  const frame = (id: number, data: Record<string, unknown>) => JSON.stringify({ id, ts: "2024-05-01T10:00:00.000Z", type: "tune.progress", data });
  const front = [{ id: 3, hyperparams: { learningRate: 0.001 }, objectives: { label: "validation", valSharpe: 1.2, valMaxDrawdown: 0.05 } }];

  it("parses tune.progress frames, drops malformed ones and keeps the newest per search", () => {
    const a = parseTuneFrame(frame(5, { tuneId: "t", generation: 1, done: 3, total: 8, status: "running", error: null, front: [...front, { id: "x" }] }))!;
    expect(a).toMatchObject({ tuneId: "t", generation: 1, done: 3, total: 8, status: "running", error: null, eventId: 5 });
    expect(a.front).toEqual(front);
    expect(parseTuneFrame("nope")).toBeNull();
    expect(parseTuneFrame(frame(6, { tuneId: "t", done: 1, total: 2, status: "bogus" }))).toBeNull();
    const b = parseTuneFrame(frame(7, { tuneId: "t", generation: 2, done: 8, total: 8, status: "done", error: null, front }))!;
    let m = applyTuneEvent(new Map(), a);
    m = applyTuneEvent(m, b);
    expect(m.get("t")!.status).toBe("done");
    expect(applyTuneEvent(m, a)).toBe(m); // an older event never replaces a newer one
  });

  it("prefers the row over a stale event when the row changed after it (an engine restart)", () => {
    const ev = parseTuneFrame(frame(5, { tuneId: "t", generation: 1, done: 3, total: 8, status: "running", error: null, front: [] }))!;
    expect(currentEvent({ status: "running", generation: 0, done: 2, total: 8, error: null, updatedAt: "2024-05-01T10:00:10.000Z" }, ev)).toBe(ev);
    expect(currentEvent({ status: "stopped", generation: 0, done: 2, total: 8, error: null, updatedAt: "2024-05-01T10:00:10.000Z" }, ev)).toBeUndefined();
    expect(currentEvent({ status: "stopped", generation: 0, done: 2, total: 8, error: null, updatedAt: "2024-05-01T09:59:00.000Z" }, ev)).toBe(ev);
  });

  it("views a stored job and survives junk", () => {
    const j = toJobView(parseRlTuneJob(jobOf(form((x) => ((x.env = "trading"), (x.symbol = "BTC-PERP"), (x.timeframe = "5m"))))).job);
    expect(j).toMatchObject({ env: "trading", algo: "ppo", symbol: "BTC-PERP", timeframe: "5m", population: 8, generations: 4, elite: 2, dims: ["learningRate", "entCoef", "hiddenWidth"] });
    expect(fmtSpec(j.space.learningRate)).toBe("1e-4 → 0.01, 5 log-spaced values");
    expect(fmtSpec(j.space.entCoef)).toBe("0, 0.01, 0.05");
    expect(toJobView(null)).toMatchObject({ env: null, algo: null, dims: [] });
    expect(asResult(null)).toBeNull();
    expect(asResult({ trials: [{ id: 0, status: "ok", objectives: { evalReturn: "x" } }, { nope: 1 }] })).toMatchObject({ trials: [{ id: 0, evalReturn: null }], pareto: [], best: null });
  });

  it("fronts: trading non-dominated (drawdown down, Sharpe up); CartPole the highest return; sorting best first", () => {
    const t = (id: number, s: number | null, dd: number | null, ev: number | null = null, status: "ok" | "failed" = "ok"): TrialView => ({
      id,
      generation: 0,
      hyperparams: {},
      seed: 1,
      status,
      valSharpe: s,
      valMaxDrawdown: dd,
      evalReturn: ev,
      valTotalReturn: null,
      valTrades: null,
      valFrom: null,
      valTo: null,
      steps: null,
      seconds: null,
      error: null,
    });
    const trading = [t(0, 1, 0.1), t(1, 2, 0.2), t(2, 0.5, 0.3), t(3, 1.5, 0.05), t(4, null, null, null, "failed")];
    expect(frontOf("trading", trading).map((x) => x.id)).toEqual([3, 1]);
    expect(sortTrialsBest("trading", trading).map((x) => x.id)).toEqual([1, 3, 0, 2, 4]);
    const cp = [t(0, null, null, 100), t(1, null, null, 500), t(2, null, null, 500)];
    expect(frontOf("cartpole", cp).map((x) => x.id)).toEqual([1, 2]);
    // while running: stored trials plus the streamed front points not stored yet
    const ev = parseTuneFrame(frame(9, { tuneId: "t", generation: 1, done: 3, total: 4, status: "running", error: null, front: [{ id: 3, hyperparams: { lr: 1 }, objectives: { label: "validation", evalReturn: 600 } }] }))!;
    const pv = progressView("cartpole", [{ id: 0, status: "ok", objectives: { label: "validation", evalReturn: 100 } }], [], ev);
    expect(pv.trials.map((x) => [x.id, !!x.live])).toEqual([
      [0, false],
      [3, true],
    ]);
    expect(pv.pareto).toEqual([3]);
    expect(pv.best).toBe(3);
  });

  it("formats hyperparameter values", () => {
    expect(fmtHyper(2.5e-4)).toBe("2.5e-4");
    expect(fmtHyper(0.0031623)).toBe("0.003162");
    expect(fmtHyper(64)).toBe("64");
    expect(fmtHyper(true)).toBe("on");
    expect(fmtHyper("relu")).toBe("relu");
    expect(fmtHyper(undefined)).toBe("—");
  });
});
