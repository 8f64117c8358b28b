import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coreInstrument, runConfiguredBacktest } from "../backtest/runner";
import { BUILTIN_INSTRUMENTS } from "../data/instruments";
import type { MarketSpec } from "./env/dataset";
import { backtestOnSpan, PolicyStrategy, runPolicyBacktest } from "./env/replay";
import { syntheticBars } from "./env/testdata";
import { argmax, defaultFeatureWidth, loadModelPolicy, type ModelPolicy, ModelStrategyError, type RegisteredModel } from "./model-strategy";
import { emitMlp } from "./onnx/mlp";
import { OrtModel } from "./onnx/runtime";
import { TrainingSession } from "./train/session";

const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
const bars = syntheticBars(4000, { seed: 3, start: 40_000, tick: 0.1 });
const deps = { loadBars: async () => ({ bars, instrument: btc }) };
const WINDOW = 8;
const CASH = 100_000;
const market: MarketSpec = {
  instrument: coreInstrument(btc),
  barMs: 60_000,
  calendar: btc.calendar,
  commission: btc.commissionType === "percent" ? { kind: "percent", percent: btc.commission } : { kind: "per_contract", amount: btc.commission },
};
// what engine/train-service.ts registers for a trading run
const featureSpec = (obsSize: number, numActions: number) => ({
  window: WINDOW,
  features: "default",
  normalisation: "expanding (past only)",
  actions: "target",
  contractSize: 0.01,
  maxUnits: 1,
  cash: CASH,
  unrealizedScale: CASH * 0.01,
  flatAtSessionEnd: false,
  obsSize,
  numActions,
  symbol: "BTC-PERP",
  timeframe: "1m",
});

async function refusal(p: Promise<unknown>): Promise<ModelStrategyError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ModelStrategyError) return e;
    throw e;
  }
  throw new Error("not refused");
}

/** A one-layer ONNX policy with the given input and output sizes and deterministic weights. */
function mlpBytes(inputs: number, outputs: number, scale = 0.05): Uint8Array {
  const n = inputs * outputs + outputs;
  return emitMlp({ sizes: [inputs, outputs], activation: "tanh" }, Float32Array.from({ length: n }, (_, k) => Math.sin(k * 12.9898) * scale), { output: "logits" }).toBytes();
}

describe("registered models as strategies", () => {
  let session: TrainingSession;
  let model: RegisteredModel;
  let mp: ModelPolicy;
  beforeAll(async () => {
    session = await TrainingSession.create({ env: "trading", algo: "ppo", steps: 2048, seed: 1, trading: { symbol: "BTC-PERP", timeframe: "1m", window: WINDOW, episodeLength: 256, contractSize: 0.01 } }, deps);
    while (!session.done) session.step();
    model = { id: "m-ppo", name: "PPO BTC-PERP 1m", env: "trading", featureSpec: featureSpec(session.env.obsSize, session.env.numActions), onnx: session.policyOnnx().bytes };
    mp = await loadModelPolicy(model);
  }, 120_000);
  afterAll(async () => {
    await mp?.dispose();
  });

  it("validates the metadata and opens the graph with the expected sizes", () => {
    expect(defaultFeatureWidth()).toBe(11);
    expect(mp.obsSize).toBe(WINDOW * 11 + 2);
    expect(mp.obsSize).toBe(session.env.obsSize);
    expect(mp.numActions).toBe(3);
    expect(mp.spec).toMatchObject({ actions: "target", contractSize: 0.01, maxUnits: 1, unrealizedScale: 1000, flatAtSessionEnd: false, symbol: "BTC-PERP" });
  });

  it("backtests like a PolicyStrategy running the same ONNX bytes, and decides like the trained float64 policy", async () => {
    const ds = mp.dataset(bars, market);
    const span = { from: 2000, to: 4000 };
    expect(span.from).toBeGreaterThan(ds.features.validFrom + WINDOW);
    const strategy = mp.strategy(ds, span);
    expect(strategy.name).toBe(model.name);
    const viaModel = backtestOnSpan(ds, span, strategy, CASH, true);
    // decisions from the range start to the bar before the last
    expect(strategy.decisions).toBe(span.to - span.from - 1);

    // reference: the same bytes in a session of our own, argmax by hand
    const ort = await OrtModel.create(model.onnx, session.env.obsSize, { device: "cpu" });
    const ref = runPolicyBacktest(ds, span, {
      window: WINDOW,
      actions: { mode: "target", contractSize: 0.01 },
      cash: CASH,
      recordFills: true,
      policy: (obs) => {
        const q = ort.runOneSync(obs);
        return q.indexOf(Math.max(...q));
      },
    });
    await ort.dispose();
    expect(viaModel.result.fillCount).toBeGreaterThan(0);
    expect(viaModel.result.fillCount).toBe(ref.result.fillCount);
    expect(viaModel.result.fills).toEqual(ref.result.fills);
    expect(viaModel.result.trades).toEqual(ref.result.trades);
    expect(viaModel.result.finalValue).toBe(ref.result.finalValue);
    expect(viaModel.metrics).toEqual(ref.metrics);

    // the trained policy itself (float64 parameters): same decisions except near float32 ties
    const obs64 = new Float64Array(session.env.obsSize);
    let decisions = 0;
    let nearTies = 0;
    let mismatches = 0;
    const recorder = new PolicyStrategy({
      dataset: ds,
      window: WINDOW,
      actions: { mode: "target", contractSize: 0.01 },
      cash: CASH,
      from: span.from,
      lastDecision: span.to - 2,
      policy: (obs) => {
        const a = mp.act(obs);
        for (let k = 0; k < obs.length; k++) obs64[k] = obs[k]!;
        const b = session.act(obs64);
        decisions++;
        if (a !== b) {
          const s = Array.from(mp.scores(obs)).sort((x, y) => y - x);
          if (s[0]! - s[1]! < 1e-4) nearTies++;
          else mismatches++;
        }
        return a;
      },
    });
    const recorded = backtestOnSpan(ds, span, recorder, CASH);
    expect(decisions).toBe(span.to - span.from - 1);
    expect(mismatches).toBe(0);
    expect(recorded.result.finalValue).toBe(viaModel.result.finalValue);
    if (nearTies === 0) {
      const trained = runPolicyBacktest(ds, span, {
        window: WINDOW,
        actions: { mode: "target", contractSize: 0.01 },
        cash: CASH,
        policy: (obs) => {
          for (let k = 0; k < obs.length; k++) obs64[k] = obs[k]!;
          return session.act(obs64);
        },
      });
      expect(trained.result.finalValue).toBe(viaModel.result.finalValue);
      expect(trained.result.fillCount).toBe(viaModel.result.fillCount);
    }
  }, 60_000);

  it("runs as model:<id> through the backtest runner on a stored series, from the range start, with the whole series as warm-up", async () => {
    const ranges: { from?: number; to?: number }[] = [];
    let disposed = 0;
    const report = await runConfiguredBacktest(
      { data: { kind: "series", symbol: "BTC-PERP", timeframe: "1m" }, strategy: "model:m-ppo", cash: CASH, from: bars.ts[2000], to: bars.ts[3999] },
      {
        loadSeries: async (_s, _tf, range) => {
          ranges.push(range);
          return { bars, instrument: btc };
        },
        model: async (id) => {
          expect(id).toBe("m-ppo");
          const p = await loadModelPolicy(model);
          const dispose = p.dispose.bind(p);
          return Object.assign(p, { dispose: async () => (disposed++, dispose()) });
        },
      },
    );
    expect(ranges).toEqual([{ from: undefined, to: bars.ts[3999] }]);
    expect(disposed).toBe(1);
    expect(report.strategy).toEqual({ id: "model:m-ppo", name: model.name, params: {} });
    expect(report.data.bars).toBe(2000);
    const ds = mp.dataset(bars, market);
    const direct = backtestOnSpan(ds, { from: 2000, to: 4000 }, mp.strategy(ds, { from: 2000, to: 4000 }), CASH);
    expect(report.fills).toBe(direct.result.fillCount);
    expect(report.finalValue).toBe(direct.result.finalValue);
  }, 60_000);

  it("refuses CartPole models, metadata that does not describe a trading policy, and graphs of the wrong size", async () => {
    const cart = await refusal(loadModelPolicy({ id: "c1", name: "PPO CartPole", env: "cartpole", featureSpec: { obs: "CartPole-v1 state" }, onnx: mlpBytes(4, 2) }));
    expect(cart.field).toBe("env");
    expect(cart.message).toMatch(/model 'PPO CartPole' \(c1\) was trained on CartPole.*only trading models can be backtested/);

    const obsSize = WINDOW * 11 + 2;
    const spec = featureSpec(obsSize, 3);
    const wrongInput = await refusal(loadModelPolicy({ id: "w1", name: "wrong input", env: "trading", featureSpec: spec, onnx: mlpBytes(40, 3) }));
    expect(wrongInput.field).toBe("onnx");
    expect(wrongInput.message).toMatch(/input size is 40, but window 8 x 11 features \+ 2 = 90/);

    const wrongOutput = await refusal(loadModelPolicy({ id: "w2", name: "wrong output", env: "trading", featureSpec: spec, onnx: mlpBytes(obsSize, 4) }));
    expect(wrongOutput.message).toMatch(/first output has 4 scores, but target actions with maxUnits 1 need 3/);

    const noActions = await refusal(loadModelPolicy({ id: "o1", name: "old", env: "trading", featureSpec: { window: WINDOW, features: "default" }, onnx: mlpBytes(obsSize, 3) }));
    expect(noActions.field).toBe("featureSpec.actions");
    expect(noActions.message).toMatch(/lacks actions, contractSize/);

    const badWindow = await refusal(loadModelPolicy({ id: "o2", name: "bad", env: "trading", featureSpec: { ...spec, window: 0 }, onnx: mlpBytes(obsSize, 3) }));
    expect(badWindow.field).toBe("featureSpec.window");
    const badObs = await refusal(loadModelPolicy({ id: "o3", name: "bad", env: "trading", featureSpec: { ...spec, obsSize: 50 }, onnx: mlpBytes(obsSize, 3) }));
    expect(badObs.field).toBe("featureSpec.obsSize");
    const badMode = await refusal(loadModelPolicy({ id: "o4", name: "bad", env: "trading", featureSpec: { ...spec, actions: "hold" }, onnx: mlpBytes(obsSize, 3) }));
    expect(badMode.field).toBe("featureSpec.actions");
    const garbage = await refusal(loadModelPolicy({ id: "o5", name: "bad", env: "trading", featureSpec: spec, onnx: Uint8Array.from([1, 2, 3, 4]) }));
    expect(garbage.message).toMatch(/ONNX graph could not be loaded/);
  });

  it("fills in defaults for older rows and breaks ties towards the lowest action", async () => {
    const obsSize = WINDOW * 11 + 2;
    // zero weights: every score ties
    const zero = emitMlp({ sizes: [obsSize, 4], activation: "tanh" }, new Float32Array(obsSize * 4 + 4)).toBytes();
    const p = await loadModelPolicy({ id: "old", name: "old trade model", env: "trading", featureSpec: { window: WINDOW, features: "default", actions: "trade", contractSize: 2 }, onnx: zero });
    try {
      expect(p.spec).toMatchObject({ maxUnits: 1, cash: 100_000, unrealizedScale: 1000, flatAtSessionEnd: false, obsSize, numActions: 4, symbol: null, timeframe: null });
      expect(p.act(new Float32Array(obsSize).fill(0.3))).toBe(0);
    } finally {
      await p.dispose();
    }
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([0, 0, 0])).toBe(0);
    expect(argmax([0, Number.NaN, 1])).toBe(-1);
  });
});
