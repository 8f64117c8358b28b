import { describe, expect, it } from "vitest";
import { parseTrainConfig } from "../train/config";
import { parseRlTuneJob, RlTuneError } from "./search";
import { buildRlSpace, RlSpaceError } from "./space";

const ppoBase = parseTrainConfig({ env: "cartpole", algo: "ppo", steps: 4096, ppo: { hidden: [32, 32, 32] } });
const dqnBase = parseTrainConfig({ env: "cartpole", algo: "dqn", steps: 4096 });

function fieldOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RlSpaceError || e instanceof RlTuneError) {
      expect(e.message.startsWith(`${e.field}:`)).toBe(true);
      return e.field;
    }
    throw e;
  }
  throw new Error("no error");
}

describe("RL hyperparameter spaces", () => {
  it("errors name the field", () => {
    expect(fieldOf(() => buildRlSpace({ ppo: { learnRate: [0.1] } }, ppoBase))).toBe("space.ppo.learnRate");
    expect(fieldOf(() => buildRlSpace({ ppo: { learningRate: [1e-3, 2] } }, ppoBase))).toBe("space.ppo.learningRate.1");
    expect(fieldOf(() => buildRlSpace({ ppo: { learningRate: [0] } }, ppoBase))).toBe("space.ppo.learningRate.0");
    expect(fieldOf(() => buildRlSpace({ ppo: { learningRate: { min: 0, max: 0.1, count: 4, scale: "log" } } }, ppoBase))).toBe("space.ppo.learningRate.min");
    expect(fieldOf(() => buildRlSpace({ ppo: { gamma: { min: 0.99, max: 0.9, step: 0.01 } } }, ppoBase))).toBe("space.ppo.gamma.min");
    expect(fieldOf(() => buildRlSpace({ ppo: { gamma: { min: 0.9, max: 0.99 } } }, ppoBase))).toBe("space.ppo.gamma.step");
    expect(fieldOf(() => buildRlSpace({ ppo: { numSteps: { min: 64, max: 128, step: 0.5 } } }, ppoBase))).toBe("space.ppo.numSteps.step");
    expect(fieldOf(() => buildRlSpace({ ppo: { updateEpochs: [4, 2.5] } }, ppoBase))).toBe("space.ppo.updateEpochs.1");
    expect(fieldOf(() => buildRlSpace({ ppo: { annealLr: { min: 0, max: 1 } } }, ppoBase))).toBe("space.ppo.annealLr");
    expect(fieldOf(() => buildRlSpace({ ppo: { activation: ["tanh", "gelu"] } }, ppoBase))).toBe("space.ppo.activation.1");
    expect(fieldOf(() => buildRlSpace({ ppo: { hiddenDepth: [2, 9] } }, ppoBase))).toBe("space.ppo.hiddenDepth.1");
    expect(fieldOf(() => buildRlSpace({ ppo: { entCoef: [] } }, ppoBase))).toBe("space.ppo.entCoef");
    expect(fieldOf(() => buildRlSpace({ ppo: {} }, ppoBase))).toBe("space.ppo");
    expect(fieldOf(() => buildRlSpace({ dqn: { nStep: [1, 3] } }, ppoBase))).toBe("space.dqn");
    expect(fieldOf(() => buildRlSpace({ sac: {} }, ppoBase))).toBe("space.sac");
    expect(fieldOf(() => buildRlSpace({ dqn: { nStep: [0, 3] } }, dqnBase))).toBe("space.dqn.nStep.0");
    expect(fieldOf(() => buildRlSpace({ dqn: { double: ["yes"] } }, dqnBase))).toBe("space.dqn.double.0");
    expect(fieldOf(() => buildRlSpace({ ppo: { network: ["mlp", "attention"] } }, ppoBase))).toBe("space.ppo.network.1");
  });

  it("PPO's network may vary between MLP and attention on a trading base", () => {
    const base = parseTrainConfig({ env: "trading", algo: "ppo", steps: 4096, trading: { symbol: "BTC-PERP", timeframe: "1m" } });
    const s = buildRlSpace({ ppo: { network: ["attention", "mlp"], entCoef: [0, 0.01] } }, base);
    expect(s.dims.map((d) => d.name)).toEqual(["entCoef", "network"]);
    expect(s.dims[1]!.values).toEqual(["mlp", "attention"]);
    expect(parseTrainConfig(s.trialConfig([1, 1], 7)).ppo.network).toBe("attention");
  });

  it("encodes genomes as indices into ordered, de-duplicated values; ranges linear and log", () => {
    const s = buildRlSpace(
      {
        ppo: {
          hiddenWidth: [64, 16, 32, 16],
          learningRate: { min: 1e-4, max: 1e-2, count: 3, scale: "log" },
          gamma: { min: 0.9, max: 0.99, step: 0.03 },
          numSteps: { min: 64, max: 256, count: 3 },
          annealLr: [true, false],
          activation: ["relu", "tanh"],
        },
      },
      ppoBase,
    );
    // canonical order, not the order written
    expect(s.dims.map((d) => d.name)).toEqual(["learningRate", "annealLr", "numSteps", "gamma", "hiddenWidth", "activation"]);
    expect(s.dims.map((d) => d.values)).toEqual([[1e-4, 1e-3, 1e-2], [false, true], [64, 160, 256], [0.9, 0.93, 0.96, 0.99], [16, 32, 64], ["tanh", "relu"]]);
    expect(s.size).toBe(3 * 2 * 3 * 4 * 3 * 2);
    const g = [2, 1, 0, 3, 1, 1];
    expect(s.key(g)).toBe("2,1,0,3,1,1");
    expect(s.hyperparams(g)).toEqual({ learningRate: 1e-2, annealLr: true, numSteps: 64, gamma: 0.99, hiddenWidth: 32, activation: "relu" });
    // width only: the base depth (3) is kept
    expect(s.algoOptions(g).hidden).toEqual([32, 32, 32]);
    const cfg = s.trialConfig(g, 1234);
    expect(cfg.seed).toBe(1234);
    expect(cfg.ppo).toMatchObject({ learningRate: 1e-2, numSteps: 64, gamma: 0.99, activation: "relu", hidden: [32, 32, 32] });
    expect(cfg.dqn).toEqual(ppoBase.dqn);
    expect(() => parseTrainConfig(cfg)).not.toThrow();
    expect(fieldOf(() => s.checkGenome([0, 0, 0, 4, 0, 0]))).toBe("genome.3");

    const d = buildRlSpace({ dqn: { hiddenDepth: [1, 3], double: [true, false], dueling: [false, true], nStep: [1, 3], batchSize: [32, 128], targetNetworkFrequency: { min: 250, max: 1000, step: 250 } } }, dqnBase);
    expect(d.dims.map((x) => x.name)).toEqual(["targetNetworkFrequency", "batchSize", "double", "dueling", "nStep", "hiddenDepth"]);
    const o = d.algoOptions([3, 0, 1, 1, 1, 1]);
    expect(o).toMatchObject({ targetNetworkFrequency: 1000, batchSize: 32, double: true, dueling: true, nStep: 3, hidden: [120, 120, 120] });
  });

  it("validates the job with field-level errors", () => {
    const ok = { base: { env: "cartpole", algo: "ppo", steps: 2048 }, space: { ppo: { entCoef: [0, 0.01] } }, population: 4, generations: 1 };
    expect(parseRlTuneJob(ok).job).toMatchObject({ population: 4, generations: 1, mutationRate: 0.2, crossoverRate: 0.9, elite: 1, seed: 1 });
    expect(fieldOf(() => parseRlTuneJob({ ...ok, population: 1 }))).toBe("population");
    expect(fieldOf(() => parseRlTuneJob({ ...ok, elite: 5 }))).toBe("elite");
    expect(fieldOf(() => parseRlTuneJob({ ...ok, mutationRate: 2 }))).toBe("mutationRate");
    expect(fieldOf(() => parseRlTuneJob({ ...ok, bogus: 1 }))).toBe("bogus");
    expect(fieldOf(() => parseRlTuneJob({ ...ok, base: { env: "cartpole", algo: "ppo", steps: -1 } }))).toBe("base.steps");
    expect(fieldOf(() => parseRlTuneJob({ ...ok, space: { ppo: { entCoef: [-1] } } }))).toBe("space.ppo.entCoef.0");
    const trading = { env: "trading", algo: "ppo", steps: 2048, trading: { symbol: "BTC-PERP", timeframe: "1m", split: { train: 0.8, validation: 0, test: 0.2 } } };
    expect(fieldOf(() => parseRlTuneJob({ ...ok, base: trading }))).toBe("base.trading.split.validation");
  });
});
