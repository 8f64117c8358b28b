/**
 * The /training page's pure helpers, checked against the engine itself: the
 * form's defaults are the engine's, the config it builds is one the engine
 * accepts (strict schemas), the engine's refusals land at the field they
 * name, and curves, layouts and reports come from real (tiny) training runs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_INSTRUMENTS } from "@/engine/data/instruments";
import { DQN_DEFAULTS } from "@/engine/rl/algos/dqn";
import { PPO_DEFAULTS } from "@/engine/rl/algos/ppo";
import { syntheticBars } from "@/engine/rl/env/testdata";
import { TradingOptionsSchema, TrainConfigError, parseTrainConfig } from "@/engine/rl/train/config";
import { networkView } from "@/engine/rl/train/network";
import { type CurvePoint, TrainingSession } from "@/engine/rl/train/session";
import {
  CHARTS,
  DQN_FORM_DEFAULTS,
  ENGINE_OFFLINE,
  FIELDS,
  FIELD_BY_PATH,
  type NetworkView,
  PPO_FORM_DEFAULTS,
  PPO_NETWORK_FORM_DEFAULTS,
  TRADING_FORM_DEFAULTS,
  type TrainEvent,
  actionLabels,
  activationColor,
  activationScale,
  activeFields,
  applyTrainEvent,
  asCurvePoint,
  asCurves,
  asReport,
  buildConfig,
  chartsFor,
  configDiff,
  defaultNumEnvs,
  defaultText,
  emptyLive,
  flattenConfig,
  fmtElapsed,
  fmtIso,
  fmtProgress,
  fmtSteps,
  fmtValue,
  formKeyOf,
  initialFormValues,
  mergeCurves,
  modelKeyMetric,
  nearest,
  networkLayout,
  parseLayers,
  parseObs,
  parseTrainFrame,
  polyline,
  ppoBatch,
  runColor,
  runState,
  seriesOf,
  thin,
  trainErrorsFromServer,
  weightStroke,
  yExtent,
} from "./model";

const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
const deps = { loadBars: async () => ({ bars: syntheticBars(3000, { seed: 3, start: 40_000, tick: 0.1 }), instrument: btc }) };

/** What the page gets for a refused start: the engine's TrainConfigError as the router passes it on (message + data.field). */
async function refusal(config: unknown, d: typeof deps | Record<string, never> = deps) {
  try {
    await TrainingSession.create(config, d);
  } catch (e) {
    if (e instanceof TrainConfigError) return { message: e.message, data: { code: "BAD_REQUEST", field: e.field } };
    throw e;
  }
  throw new Error("the engine accepted the config");
}

const json = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe("form defaults and config", () => {
  it("the form's defaults are the engine's", () => {
    const { adamEps: _p, network, attention, ...ppo } = PPO_DEFAULTS;
    expect(PPO_NETWORK_FORM_DEFAULTS).toEqual({ network, attention });
    const { adamEps: _d, ...dqn } = DQN_DEFAULTS;
    expect(PPO_FORM_DEFAULTS).toEqual(ppo);
    expect(DQN_FORM_DEFAULTS).toEqual(dqn);
    const { symbol: _s, timeframe: _t, plantLookAhead: _l, ...trading } = TradingOptionsSchema.parse({ symbol: "X", timeframe: "1m" });
    expect(TRADING_FORM_DEFAULTS).toEqual(trading);
    expect(defaultText("ppo.learningRate")).toBe("0.00025");
    expect(defaultText("ppo.hidden")).toBe("64, 64");
    expect(defaultText("ppo.targetKl")).toBe("blank");
    expect(defaultText("dqn.dueling")).toBe("off");
  });

  it("PPO's attention network: its fields show for trading runs only, and build a config the engine accepts", () => {
    const base = { ...initialFormValues(), env: "trading", algo: "ppo", "trading.symbol": "BTC-PERP", "trading.timeframe": "5m" };
    expect(activeFields("trading", "ppo", "mlp").map((f) => f.path)).toContain("ppo.network");
    expect(activeFields("trading", "ppo", "mlp").map((f) => f.path)).not.toContain("ppo.attention.dModel");
    expect(activeFields("cartpole", "ppo", "attention").map((f) => f.path)).not.toContain("ppo.network");
    const built = buildConfig({ ...base, "ppo.network": "attention", "ppo.attention.dModel": "16", "ppo.attention.heads": "2" });
    if ("errors" in built) throw new Error(JSON.stringify(built.errors));
    const parsed = parseTrainConfig(built.config);
    expect(parsed.ppo.network).toBe("attention");
    expect(parsed.ppo.attention).toEqual({ dModel: 16, heads: 2 });
    const bad = buildConfig({ ...base, "ppo.network": "attention", "ppo.attention.heads": "two" });
    expect("errors" in bad && bad.errors["ppo.attention.heads"]).toMatch(/not a number/);
    expect(formKeyOf("ppo.attention.heads")).toBe("ppo.attention.heads");
  });

  it("builds a config the engine's strict schema accepts, equal to the defaults, for every env and algorithm", () => {
    for (const env of ["cartpole", "trading"] as const)
      for (const algo of ["ppo", "dqn"] as const) {
        const v = { ...initialFormValues(), env, algo, "trading.symbol": "BTC-PERP", "trading.timeframe": "5m" };
        const built = buildConfig(v);
        if ("errors" in built) throw new Error(JSON.stringify(built.errors));
        const parsed = parseTrainConfig(built.config);
        expect(parsed.env).toBe(env);
        expect(parsed.algo).toBe(algo);
        expect(parsed.steps).toBe(100_000);
        expect(parsed.seed).toBe(1);
        expect(parsed.numEnvs).toBeUndefined();
        expect(built.config.name).toBeUndefined();
        if (algo === "ppo") {
          expect(parsed.ppo).toEqual(env === "trading" ? { ...PPO_FORM_DEFAULTS, network: "mlp" } : PPO_FORM_DEFAULTS);
          expect(built.config.dqn).toBeUndefined();
        } else {
          expect(parsed.dqn).toEqual(DQN_FORM_DEFAULTS);
          expect(built.config.ppo).toBeUndefined();
        }
        if (env === "trading") expect(parsed.trading).toEqual({ ...TRADING_FORM_DEFAULTS, symbol: "BTC-PERP", timeframe: "5m", plantLookAhead: false });
        else expect(built.config.trading).toBeUndefined();
      }
  });

  it("every field is a key of the engine's config", () => {
    const v = initialFormValues();
    for (const f of FIELDS) expect(v[f.path], f.path).toBeDefined();
    expect(activeFields("cartpole", "ppo").some((f) => f.group === "trading" || f.group === "dqn")).toBe(false);
    expect(activeFields("trading", "dqn").some((f) => f.group === "ppo")).toBe(false);
  });

  it("sends typed values and blanks as the engine reads them", () => {
    const v = { ...initialFormValues(), name: "  my run ", numEnvs: "8", steps: "2e4", "ppo.targetKl": "0.015", "ppo.hidden": "32,16 8", "ppo.annealLr": false, "ppo.activation": "relu" };
    const built = buildConfig(v);
    if ("errors" in built) throw new Error("errors");
    expect(built.config).toMatchObject({ name: "my run", numEnvs: 8, steps: 20_000, ppo: { targetKl: 0.015, hidden: [32, 16, 8], annealLr: false, activation: "relu" } });
    const blankKl = buildConfig(initialFormValues());
    expect("config" in blankKl && (blankKl.config.ppo as Record<string, unknown>).targetKl).toBe(null);
    expect(parseTrainConfig(built.config).ppo.hidden).toEqual([32, 16, 8]);
  });

  it("catches values that are not numbers, naming the field", () => {
    const v = { ...initialFormValues(), steps: "many", "ppo.gamma": "", "ppo.numSteps": "1.5", "ppo.hidden": "64, big" };
    const built = buildConfig(v);
    expect("errors" in built && built.errors).toEqual({
      steps: 'steps: "many" is not a number.',
      "ppo.gamma": "ppo.gamma: enter a number.",
      "ppo.numSteps": "ppo.numSteps: must be a whole number.",
      "ppo.hidden": "ppo.hidden: enter layer sizes as whole numbers separated by commas, e.g. 64, 64.",
    });
    expect(parseLayers("64 x 64")).toEqual([64, 64]);
    expect(parseLayers("")).toBe(null);
    expect(parseLayers("-3")).toBe(null);
    const t = buildConfig({ ...initialFormValues(), env: "trading" });
    expect("errors" in t && t.errors["trading.symbol"]).toBe("trading.symbol: pick a value.");
  });

  it("PPO batch arithmetic for the hint", () => {
    expect(ppoBatch(initialFormValues())).toEqual({ numEnvs: 4, batch: 512, minibatch: 128, iterations: 195 });
    expect(ppoBatch({ ...initialFormValues(), numEnvs: "3", "ppo.numMinibatches": "5" })).toMatchObject({ batch: 384, minibatch: null });
    expect(ppoBatch({ ...initialFormValues(), "ppo.numSteps": "x" })).toBe(null);
    expect(defaultNumEnvs("cartpole", "dqn")).toBe(1);
    expect(defaultNumEnvs("trading", "ppo")).toBe(8);
  });
});

describe("server errors at their fields", () => {
  it("says plainly that the engine is offline", () => {
    expect(trainErrorsFromServer({ message: "Engine offline: training runs in the engine.", data: { code: "SERVICE_UNAVAILABLE" } })).toEqual({ form: ENGINE_OFFLINE });
    expect(ENGINE_OFFLINE.startsWith("Engine offline")).toBe(true);
  });

  it("maps the engine's real refusals to the form field they name", async () => {
    const base = { env: "cartpole", algo: "ppo", steps: 10_000, seed: 1 };
    const cases: [unknown, string, RegExp][] = [
      [{ ...base, ppo: { gamma: 2 } }, "ppo.gamma", /^ppo\.gamma: /],
      [{ ...base, ppo: { hidden: [64, 0] } }, "ppo.hidden", /^ppo\.hidden/],
      [{ ...base, steps: 1.5 }, "steps", /^steps: must be a whole number/],
      [{ ...base, ppo: { numMinibatches: 3 } }, "ppo.numMinibatches", /^ppo\.numMinibatches: numMinibatches \(3\) must divide/],
      [{ ...base, steps: 100 }, "steps", /^steps: totalTimesteps \(100\) must be at least one batch/],
      [{ ...base, algo: "dqn", dqn: { tau: 0 } }, "dqn.tau", /^dqn\.tau: /],
      [{ ...base, numEnvs: 0 }, "numEnvs", /^numEnvs: /],
      [{ ...base, env: "trading", trading: { symbol: "BTC-PERP", timeframe: "1m", split: { train: 0.7, validation: 0.2, test: 0.2 } } }, "trading.split", /^trading\.split: /],
      [{ ...base, env: "trading", trading: { symbol: "BTC-PERP", timeframe: "1m", window: 0 } }, "trading.window", /^trading\.window: /],
      [{ ...base, env: "trading", trading: { symbol: "BTC-PERP", timeframe: "1m", plantLookAhead: true } }, "trading", /look-ahead/],
      [{ ...base, env: "trading" }, "trading", /^trading: a trading run needs/],
    ];
    for (const [config, key, msg] of cases) {
      const errs = trainErrorsFromServer(await refusal(config));
      expect(Object.keys(errs), JSON.stringify(config)).toEqual([key]);
      expect(errs[key]).toMatch(msg);
      expect(key === "trading" || key === "trading.split" || FIELD_BY_PATH.has(key)).toBe(true);
    }
    // several PPO problems at once: each at its own field
    const many = trainErrorsFromServer(await refusal({ ...base, steps: 100, ppo: { numMinibatches: 3 } }));
    expect(Object.keys(many).sort()).toEqual(["ppo.numMinibatches", "steps"]);
    // a series that cannot be loaded: at the symbol
    const missing = trainErrorsFromServer(
      await refusal(
        { ...base, env: "trading", trading: { symbol: "NOPE", timeframe: "1m" } },
        {
          loadBars: async () => {
            throw new Error("unknown symbol NOPE");
          },
        },
      ),
    );
    expect(missing).toEqual({ "trading.symbol": "trading.symbol: unknown symbol NOPE" });
  });

  it("falls back to the message's field prefix, then to the form", () => {
    expect(trainErrorsFromServer({ message: "dqn.batchSize: Too small" })).toEqual({ "dqn.batchSize": "dqn.batchSize: Too small" });
    expect(trainErrorsFromServer({ message: "the run has finished" })).toEqual({ form: "the run has finished" });
    expect(trainErrorsFromServer({ message: "This needs the trader role; you are viewer.", data: { code: "FORBIDDEN" } })).toEqual({ form: "This needs the trader role; you are viewer." });
    expect(formKeyOf("ppo.hidden.1")).toBe("ppo.hidden");
    expect(formKeyOf("trading.split.test")).toBe("trading.split.test");
    expect(formKeyOf("trading.features")).toBe("trading");
    expect(formKeyOf("config")).toBe("form");
    expect(formKeyOf("whatever")).toBe("form");
  });
});

const pt = (step: number, extra: Partial<CurvePoint> = {}): CurvePoint => ({
  step,
  episodeReturn: null,
  meanReturn100: step / 100,
  policyLoss: null,
  valueLoss: null,
  entropy: null,
  approxKl: null,
  clipFrac: null,
  tdLoss: null,
  epsilon: null,
  stepsPerSecond: 1000,
  ...extra,
});
const ev = (runId: string, step: number, status = "running", point: CurvePoint | null = pt(step), ts: string | null = "2024-05-01T10:00:10.000Z"): TrainEvent => ({ runId, name: runId, status, step, totalSteps: 10_000, point, error: null, modelId: null, ts });

describe("live curves", () => {
  let real: CurvePoint[] = [];
  beforeAll(async () => {
    const s = await TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 4096, seed: 5 });
    while (!s.done) s.step();
    real = json(s.curves);
  });

  it("reads stored curves and stream frames, dropping malformed points", () => {
    expect(asCurves(real)).toEqual(real);
    expect(asCurves(null)).toEqual([]);
    expect(asCurves([{ step: "x" }, { step: 3, meanReturn100: "nope", entropy: 0.5 }, null])).toEqual([{ ...pt(3), meanReturn100: null, entropy: 0.5, stepsPerSecond: 0 }]);
    expect(asCurvePoint({ step: 1, tdLoss: Infinity })?.tdLoss).toBe(null);
    const frame = JSON.stringify({ id: 5, ts: "2024-05-01T10:00:00.000Z", type: "train.progress", data: { runId: "a", name: "A", status: "running", step: 512, totalSteps: 4096, point: real[0], error: null, modelId: null } });
    expect(parseTrainFrame(frame)).toEqual({ runId: "a", name: "A", status: "running", step: 512, totalSteps: 4096, point: real[0], error: null, modelId: null, ts: "2024-05-01T10:00:00.000Z" });
    expect(parseTrainFrame("{")).toBe(null);
    expect(parseTrainFrame(JSON.stringify({ data: { runId: 3 } }))).toBe(null);
  });

  it("merges the stream's points after the stored ones, per run, never mixing runs", () => {
    let s = emptyLive();
    for (const p of real) {
      s = applyTrainEvent(s, ev("a", p.step, "running", p));
      s = applyTrainEvent(s, ev("b", p.step * 2, "running", pt(p.step * 2, { meanReturn100: -1 })));
    }
    expect(s.points.get("a")).toEqual(real);
    expect(s.points.get("b")!.every((p) => p.meanReturn100 === -1)).toBe(true);
    // stored up to the 3rd point, the stream has all: nothing twice, in order
    const merged = mergeCurves(real.slice(0, 3), s.points.get("a"));
    expect(merged).toEqual(real);
    expect(mergeCurves(real.slice(0, 3), undefined)).toEqual(real.slice(0, 3));
    expect(mergeCurves([], [pt(5), pt(3), pt(7)]).map((p) => p.step)).toEqual([5, 7]);
    // the stored curve already holds more than the stream: the stream adds only what is newer
    expect(mergeCurves(real, s.points.get("a")!.slice(0, 2))).toEqual(real);
  });

  it("drops streamed points past a reset or a resume from an older checkpoint", () => {
    let s = emptyLive();
    for (const k of [1, 2, 3, 4]) s = applyTrainEvent(s, ev("a", k * 100));
    // resumed from the checkpoint at 200 after an engine restart: the start event carries no point
    s = applyTrainEvent(s, ev("a", 200, "running", null));
    expect(s.points.get("a")!.map((p) => p.step)).toEqual([100, 200]);
    s = applyTrainEvent(s, ev("a", 300));
    expect(s.points.get("a")!.map((p) => p.step)).toEqual([100, 200, 300]);
    // a point that goes back in steps replaces the later ones
    s = applyTrainEvent(s, ev("a", 150));
    expect(s.points.get("a")!.map((p) => p.step)).toEqual([100, 150]);
    // the same step again replaces it
    s = applyTrainEvent(s, ev("a", 150, "stopped", pt(150, { meanReturn100: 9 })));
    expect(s.points.get("a")!.at(-1)!.meanReturn100).toBe(9);
    // reset: stopped at step 0 without a point
    s = applyTrainEvent(s, ev("a", 0, "stopped", null));
    expect(s.points.has("a")).toBe(false);
    expect(s.latest.get("a")!.status).toBe("stopped");
  });

  it("keeps at most cap points per run, thinning the older half", () => {
    let s = emptyLive();
    for (let k = 1; k <= 30; k++) s = applyTrainEvent(s, ev("a", k), 20);
    const steps = s.points.get("a")!.map((p) => p.step);
    expect(steps.length).toBeLessThanOrEqual(20);
    expect(steps.at(-1)).toBe(30);
    expect([...steps].sort((x, y) => x - y)).toEqual(steps);
  });

  it("takes a run's state from the newer of its row and its latest event", () => {
    const row = { status: "running", steps: 2048, totalSteps: 10_000, updatedAt: "2024-05-01T10:00:05.000Z", error: null, summary: null };
    expect(runState(row, undefined)).toEqual({ status: "running", step: 2048, totalSteps: 10_000, error: null, modelId: null, meanReturn100: null });
    expect(runState(row, ev("a", 4096))).toMatchObject({ status: "running", step: 4096, meanReturn100: 40.96 });
    // an older event (replayed) does not move the row back
    expect(runState(row, ev("a", 1024, "running", pt(1024), "2024-05-01T10:00:01.000Z"))).toMatchObject({ status: "running", step: 2048 });
    const stoppedRow = { ...row, status: "stopped", updatedAt: "2024-05-01T10:00:20.000Z" };
    expect(runState(stoppedRow, ev("a", 1024, "running", pt(1024), "2024-05-01T10:00:10.000Z"))).toMatchObject({ status: "stopped", step: 2048 });
    // resumed after the row was read
    expect(runState(stoppedRow, ev("a", 2048, "running", null, "2024-05-01T10:00:30.000Z"))).toMatchObject({ status: "running", step: 2048 });
    const failed = { ...ev("a", 3000, "failed", null, "2024-05-01T10:00:30.000Z"), error: "reward of environment 0 is NaN" };
    expect(runState(row, failed)).toMatchObject({ status: "failed", error: "reward of environment 0 is NaN" });
    const done = { ...row, status: "done", steps: 10_000, summary: { meanReturn100: 123.4, modelId: "m1" } };
    expect(runState(done, undefined)).toMatchObject({ status: "done", meanReturn100: 123.4, modelId: "m1" });
    expect(runState(row, { ...ev("a", 10_000, "done"), modelId: "m2", ts: "2024-05-01T10:01:00.000Z" })).toMatchObject({ status: "done", modelId: "m2" });
  });
});

describe("charts", () => {
  it("chooses the charts of each algorithm", () => {
    expect(chartsFor(["ppo"]).map((c) => c.id)).toEqual(["return", "policyLoss", "valueLoss", "entropy", "approxKl", "clipFrac", "sps"]);
    expect(chartsFor(["dqn"]).map((c) => c.id)).toEqual(["return", "tdLoss", "epsilon", "sps"]);
    expect(chartsFor(["ppo", "dqn"])).toHaveLength(CHARTS.length);
  });

  it("series skip missing values; thinning keeps the extremes and the ends", () => {
    const pts = [pt(1, { tdLoss: 3 }), pt(2), pt(3, { tdLoss: 1 }), pt(4, { stepsPerSecond: 0 })];
    expect(seriesOf(pts, "tdLoss")).toEqual([
      [1, 3],
      [3, 1],
    ]);
    expect(seriesOf(pts, "stepsPerSecond").map((p) => p[0])).toEqual([1, 2, 3]);
    const many = Array.from({ length: 10_000 }, (_, i) => [i, Math.sin(i / 50) + (i === 5000 ? 10 : 0)] as [number, number]);
    const t = thin(many, 200);
    expect(t.length).toBeLessThanOrEqual(200);
    expect(t[0]).toEqual(many[0]);
    expect(t.at(-1)).toEqual(many.at(-1));
    expect(t.some(([x]) => x === 5000)).toBe(true);
    expect(t.map(([x]) => x)).toEqual([...t.map(([x]) => x)].sort((a, b) => a - b));
    expect(thin(many.slice(0, 10), 200)).toEqual(many.slice(0, 10));
  });

  it("extents, nearest points and polylines", () => {
    expect(yExtent([])).toBe(null);
    expect(yExtent([[[0, 5]]])).toEqual([4.5, 5.5]);
    expect(yExtent([[[0, 0]]])).toEqual([-1, 1]);
    expect(
      yExtent([
        [
          [0, 0],
          [1, 10],
        ],
        [[2, -10]],
      ]),
    ).toEqual([-11, 11]);
    const s: [number, number][] = [
      [0, 1],
      [10, 2],
      [20, 3],
    ];
    expect(nearest(s, 14)).toEqual([10, 2]);
    expect(nearest(s, 16)).toEqual([20, 3]);
    expect(nearest(s, -5)).toEqual([0, 1]);
    expect(nearest([], 3)).toBe(null);
    expect(polyline(s, [0, 20], [1, 3], 200, 100)).toBe("0.0,100.0 100.0,50.0 200.0,0.0");
    expect(runColor(0)).not.toBe(runColor(1));
    expect(runColor(7)).toBe(runColor(0));
  });
});

describe("formatting", () => {
  it("formats figures, steps, progress and times", () => {
    expect(fmtValue(null)).toBe("—");
    expect(fmtValue(NaN)).toBe("—");
    expect(fmtValue(0)).toBe("0");
    expect(fmtValue(487.254)).toBe("487.25");
    expect(fmtValue(12_345.6)).toBe("12,346");
    expect(fmtValue(0.012345)).toBe("0.0123");
    expect(fmtValue(2.5e-4)).toBe("2.50e-4");
    expect(fmtValue(-0.5)).toBe("-0.5");
    expect(fmtSteps(512)).toBe("512");
    expect(fmtSteps(2500)).toBe("2.5k");
    expect(fmtSteps(25_000)).toBe("25k");
    expect(fmtSteps(1_500_000)).toBe("1.5M");
    expect(fmtSteps(100_000_000)).toBe("100M");
    expect(fmtProgress(2048, 8192)).toBe("2,048 / 8,192 (25%)");
    expect(fmtProgress(5, 0)).toBe("5 / 0 (0%)");
    expect(fmtIso("2024-05-01T10:20:30.000Z")).toBe("2024-05-01 10:20");
    expect(fmtIso("nope")).toBe("—");
    expect(fmtElapsed(12_345)).toBe("12.3 s");
    expect(fmtElapsed(185_000)).toBe("3m 05s");
    expect(fmtElapsed(3_725_000)).toBe("1h 02m");
  });

  it("flattens configs and finds what differs between runs", () => {
    const a = { env: "cartpole", algo: "ppo", steps: 1000, ppo: { gamma: 0.99, hidden: [64, 64] } };
    const b = { env: "cartpole", algo: "ppo", steps: 2000, ppo: { gamma: 0.99, hidden: [32] }, seed: 4 };
    expect(flattenConfig(a)).toEqual([
      ["env", "cartpole"],
      ["algo", "ppo"],
      ["steps", "1000"],
      ["ppo.gamma", "0.99"],
      ["ppo.hidden", "64, 64"],
    ]);
    expect(configDiff([a, b])).toEqual([
      { key: "steps", values: ["1000", "2000"] },
      { key: "ppo.hidden", values: ["64, 64", "32"] },
      { key: "seed", values: ["—", "4"] },
    ]);
    expect(configDiff([a, a])).toEqual([]);
  });
});

describe("reports and the network view, from real runs", () => {
  let cartpole: ReturnType<TrainingSession["evaluate"]>;
  let trading: ReturnType<TrainingSession["evaluate"]>;
  let cpView: NetworkView;
  let trView: NetworkView;
  beforeAll(async () => {
    const a = await TrainingSession.create({ env: "cartpole", algo: "ppo", steps: 2048, seed: 3 });
    while (!a.done) a.step();
    cartpole = json(a.evaluate());
    const o = a.policyOnnx();
    cpView = json(networkView(o.bytes, o.spec, [0.1, -0.2, 0.05, 0.3]));
    const s = await TrainingSession.create({ env: "trading", algo: "dqn", steps: 2000, seed: 1, dqn: { learningStarts: 200, dueling: true }, trading: { symbol: "BTC-PERP", timeframe: "1m", window: 8, episodeLength: 256, contractSize: 0.01 } }, deps);
    while (!s.done) s.step();
    trading = json(s.evaluate());
    const t = s.policyOnnx();
    trView = json(networkView(t.bytes, t.spec, new Array<number>(t.spec.sizes[0]!).fill(0.5), true));
  }, 120_000);

  it("reads stored reports and names a model's key figure with its label", () => {
    expect(asReport(cartpole)?.evaluation?.episodes).toBe(100);
    expect(asReport({ env: "x" })).toBe(null);
    expect(asReport(null)).toBe(null);
    const k = modelKeyMetric(cartpole)!;
    expect(k.text).toBe(fmtValue(cartpole.evaluation!.meanReturn));
    expect(k.label).toMatch(/^evaluation/);
    const t = modelKeyMetric(trading)!;
    const oos = trading.trading!.outOfSample.metrics;
    expect(t.text).toBe(`Sharpe ${oos.sharpe.toFixed(2)} · ${(oos.totalReturn * 100).toFixed(2)}%`);
    expect(t.label).toMatch(/^out-of-sample/);
    expect(modelKeyMetric(undefined)).toBe(null);
  });

  it("lays out CartPole's policy: every neuron, the strongest edges, the chosen action ringed", () => {
    expect(cpView.sizes).toEqual([4, 64, 64, 2]);
    const all = networkLayout(cpView, { threshold: 0, maxEdges: 100_000 });
    expect(all.columns.map((c) => c.shown)).toEqual([4, 64, 64, 2]);
    expect(all.nodes).toHaveLength(4 + 64 + 64 + 2);
    expect(all.edges).toHaveLength(4 * 64 + 64 * 64 + 64 * 2);
    expect(all.hiddenEdges).toBe(0);
    expect(all.actionNode).toMatchObject({ layer: 3, index: cpView.action });
    expect(all.nodes.filter((n) => n.layer === 0).map((n) => n.value)).toEqual([0.1, -0.2, 0.05, 0.3]);
    const pruned = networkLayout(cpView, { threshold: 0.5, maxEdges: 300 });
    expect(pruned.edges.length).toBeLessThanOrEqual(3 * 300);
    expect(pruned.edges.length + pruned.hiddenEdges).toBe(all.edges.length);
    expect(pruned.edges.every((e) => e.opacity >= 0.1 + 0.7 * 0.5 - 1e-9)).toBe(true);
    for (const n of all.nodes) {
      expect(n.y).toBeGreaterThan(0);
      expect(n.y).toBeLessThan(all.height);
      expect(n.x).toBeLessThan(all.width);
    }
  });

  it("lays out a larger trading policy with downsampled weights and a dueling head", () => {
    const [inp, h1, h2, out] = trView.sizes as [number, number, number, number];
    expect(inp).toBeGreaterThan(64);
    expect(out).toBe(4); // 3 actions + the value of the dueling head
    const lay = networkLayout(trView, { threshold: 0, maxEdges: 100_000, dueling: true });
    expect(lay.columns.map((c) => c.shown)).toEqual([Math.ceil(inp / 2), Math.ceil(h1 / 2), Math.ceil(h2 / 2), out]);
    expect(lay.columns.every((c) => c.shown <= 64)).toBe(true);
    // edges follow the downsampled matrices
    const expected = trView.layers.slice(1).reduce((n, l) => n + l.weights!.length * l.weights![0]!.length, 0);
    expect(lay.edges.length + lay.hiddenEdges).toBe(expected);
    expect(lay.actionNode?.index).toBe(trView.action + 1);
    expect(actionLabels("trading", { actions: "target" }, 3)).toEqual(["short", "flat", "long"]);
  });

  it("names actions and colours activations and weights", () => {
    expect(actionLabels("cartpole", null, 2)).toEqual(["push left", "push right"]);
    expect(actionLabels("trading", { actions: "trade" }, 4)).toEqual(["hold", "buy 1 unit", "sell 1 unit", "close"]);
    expect(actionLabels("trading", { actions: "target" }, 5)).toEqual(["target -2 units", "target -1 units", "flat", "target +1 units", "target +2 units"]);
    expect(actionLabels("other", null, 2)).toEqual(["action 0", "action 1"]);
    expect(activationColor(1, 1)).toBe("rgba(63, 208, 138, 1.000)");
    expect(activationColor(-0.5, 1)).toBe("rgba(239, 91, 91, 0.540)");
    expect(activationColor(5, 1)).toBe(activationColor(1, 1));
    expect(activationScale([0.2, -3, 1], "relu")).toBe(3);
    expect(activationScale([0.2, -3, 1], "tanh")).toBe(1);
    expect(activationScale([0, 0], undefined)).toBe(1);
    expect(weightStroke(0.1, 1)).toBe(null);
    expect(weightStroke(-1, 1)).toEqual({ color: "#ef5b5b", opacity: 0.8, width: 1.8 });
    expect(weightStroke(0.5, 1, 0)?.color).toBe("#3fd08a");
    expect(weightStroke(1, 0)).toBe(null);
  });

  it("parses an observation typed as numbers or JSON", () => {
    expect(parseObs("0, 1.5 -2", 3)).toEqual({ obs: [0, 1.5, -2] });
    expect(parseObs("[0.1,0.2]", 2)).toEqual({ obs: [0.1, 0.2] });
    expect(parseObs("1 2", 3)).toEqual({ error: "obs: 2 values; the network takes 3." });
    expect(parseObs("1 x", 2)).toEqual({ error: 'obs: "x" is not a number.' });
  });
});
