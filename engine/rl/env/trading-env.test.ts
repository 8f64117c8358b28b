import { describe, expect, it } from "vitest";
import type { CommissionModel, SlippageModel } from "../../core/costs";
import type { CoreInstrument } from "../../core/types";
import type { CalendarId } from "../../data/types";
import { buildDataset, type TradingDataset } from "./dataset";
import { defaultFeatureSet } from "./features";
import { Prng } from "./prng";
import { runPolicyBacktest } from "./replay";
import { syntheticBars } from "./testdata";
import { type ActionMode, actionTarget, EnvConfigError, type RewardSpec, VecTradingEnv } from "./trading-env";

interface Case {
  name: string;
  instrument: CoreInstrument;
  commission: CommissionModel;
  slippage: SlippageModel;
  mode: ActionMode;
  contractSize: number;
  maxUnits: number;
  cash: number;
  flatAtSessionEnd?: boolean;
  calendar?: CalendarId;
  barMs: number;
  tick: number;
  start: number;
  reward?: RewardSpec;
  /** Observation window (default 8 rows: copied through WebAssembly; 2 rows = 22 floats takes the element loop). */
  window?: number;
}

const NQ: CoreInstrument = { symbol: "NQ", tickSize: 0.25, pointValue: 20, currency: "USD", marginPerContract: 19_000 };

const CASES: Case[] = [
  // futures: ticks, per-contract commission, 1 tick slippage, a margin that binds at 2-3 contracts
  { name: "NQ target mode, margin binding", instrument: NQ, commission: { kind: "per_contract", amount: 2.25 }, slippage: { kind: "ticks", ticks: 1 }, mode: "target", contractSize: 1, maxUnits: 3, cash: 45_000, barMs: 60_000, tick: 0.25, start: 15_000 },
  // spot without a tick grid: percent commission and slippage, fully paid (margin rate 1), FIFO lots in trade mode
  { name: "unit trade mode, percent costs", instrument: { symbol: "UNIT", tickSize: 0, pointValue: 1, currency: "USD", marginRate: 1 }, commission: { kind: "percent", percent: 0.1 }, slippage: { kind: "percent", percent: 0.02 }, mode: "trade", contractSize: 4, maxUnits: 3, cash: 1_000, barMs: 300_000, tick: 0, start: 100, window: 2 },
  // cents grid, flat fee per fill, flat at each (UTC day) session's end, drawdown reward
  { name: "cents trade mode, flat at session end", instrument: { symbol: "X", tickSize: 0.01, pointValue: 1, currency: "USD" }, commission: { kind: "per_fill", amount: 1 }, slippage: { kind: "ticks", ticks: 2 }, mode: "trade", contractSize: 10, maxUnits: 2, cash: 10_000, flatAtSessionEnd: true, calendar: "24x7", barMs: 900_000, tick: 0.01, start: 50, reward: { kind: "pnl_drawdown", lambda: 0.5 } },
];

function dataset(c: Case, n = 3000, seed = 7): TradingDataset {
  const bars = syntheticBars(n, { seed, tick: c.tick, start: c.start, barMs: c.barMs, stepTicks: c.tick > 0 ? 8 : undefined });
  if (c.tick === 0) {
    // no grid: make prices non-representable decimals
    for (let i = 0; i < n; i++) {
      bars.open[i] = bars.open[i]! * 1.0000001;
      bars.close[i] = bars.close[i]! * 1.0000001;
      bars.high[i] = Math.max(bars.high[i]! * 1.0000001, bars.open[i]!, bars.close[i]!);
      bars.low[i] = Math.min(bars.low[i]! * 1.0000001, bars.open[i]!, bars.close[i]!);
    }
  }
  return buildDataset(bars, { instrument: c.instrument, commission: c.commission, slippage: c.slippage, barMs: c.barMs, calendar: c.calendar }, defaultFeatureSet());
}

interface Episode {
  start: number;
  actions: number[];
  obs: Float32Array[];
  fills: { price: number; qty: number; commission: number }[];
  equity: number[];
  /** Steps whose action asked for a position change that did not happen (margin). */
  denied: number;
}

/** Step `envs` environments with random actions until each has finished one episode; record it. */
function recordEpisodes(env: VecTradingEnv, seed: number): Episode[] {
  const N = env.numEnvs;
  const rnd = new Prng(seed);
  const eps: Episode[] = [];
  const live: (Episode | null)[] = [];
  env.reset(seed);
  for (let i = 0; i < N; i++) live.push({ start: env.bar[i]!, actions: [], obs: [], fills: [], equity: [], denied: 0 });
  const actions = new Int32Array(N);
  const wants = new Uint8Array(N);
  const { mode, contractSize, maxUnits } = env.config.actions;
  let finished = 0;
  while (finished < N) {
    for (let i = 0; i < N; i++) {
      // sticky random actions: positions are held for a while, with many changes too
      actions[i] = rnd.float() < 0.3 ? rnd.int(env.numActions) : (live[i]?.actions.at(-1) ?? 1);
      live[i]?.actions.push(actions[i]!);
      live[i]?.obs.push(env.obs.slice(i * env.obsSize, (i + 1) * env.obsSize));
      const flat = env.config.flatAtSessionEnd && env.dataset.lastOfSession[env.bar[i]! + 1] === 1;
      wants[i] = (flat ? 0 : actionTarget(mode, actions[i]!, env.pos[i]!, contractSize, maxUnits ?? 1)) !== env.pos[i] ? 1 : 0;
    }
    const r = env.step(actions);
    for (let i = 0; i < N; i++) {
      const ep = live[i];
      if (!ep) continue;
      const done = r.terminated[i] === 1 || r.truncated[i] === 1;
      if (wants[i] === 1 && env.fillQty[i] === 0) ep.denied++;
      if (env.fillQty[i] !== 0) ep.fills.push({ price: env.fillPrice[i]!, qty: env.fillQty[i]!, commission: env.fillCommission[i]! });
      ep.equity.push(done ? env.config.cash + env.finalEquityChange[i]! : env.equity[i]!);
      if (done) {
        eps.push(ep);
        live[i] = null;
        finished++;
      }
    }
  }
  return eps;
}

describe("VecTradingEnv: the same fills, costs and accounting as the trading core", () => {
  for (const c of CASES) {
    it(`replays through runBacktest with identical fills, equity curve and final value: ${c.name}`, () => {
      const ds = dataset(c);
      const cfg = {
        dataset: ds,
        numEnvs: 4,
        window: c.window ?? 8,
        span: { from: 0, to: ds.length },
        episodeLength: 600,
        actions: { mode: c.mode, contractSize: c.contractSize, maxUnits: c.maxUnits },
        cash: c.cash,
        flatAtSessionEnd: c.flatAtSessionEnd,
        reward: c.reward,
      };
      const env = new VecTradingEnv(cfg);
      const eps = recordEpisodes(env, 11);
      let totalFills = 0;
      let denied = 0;
      let worst = 0;
      for (const ep of eps) {
        const L = ep.actions.length;
        let k = 0;
        const { result } = runPolicyBacktest(ds, { from: ep.start, to: ep.start + L + 1 }, {
          window: cfg.window,
          actions: cfg.actions,
          cash: c.cash,
          flatAtSessionEnd: c.flatAtSessionEnd,
          recordFills: true,
          policy: (obs, bar) => {
            expect(bar).toBe(ep.start + k);
            // the observation the strategy builds from the core's position view is the env's
            expect(Array.from(obs)).toEqual(Array.from(ep.obs[k]!));
            return ep.actions[k++]!;
          },
        });
        expect(k).toBe(L);
        // fills: same count, prices, quantities, sides, commissions
        expect(result.fills.length).toBe(ep.fills.length);
        result.fills.forEach((f, j) => {
          const e = ep.fills[j]!;
          expect(f.price).toBe(e.price);
          expect(f.qty).toBe(Math.abs(e.qty));
          expect(f.side).toBe(e.qty > 0 ? "buy" : "sell");
          expect(Math.abs(f.commission - e.commission)).toBeLessThanOrEqual(1e-9);
        });
        totalFills += ep.fills.length;
        // equity at every bar's close: backtest bar 0 is the episode start (no position yet)
        expect(result.equity.length).toBe(L + 1);
        expect(result.equity[0]).toBe(c.cash);
        let maxDiff = 0;
        for (let s = 0; s < L; s++) maxDiff = Math.max(maxDiff, Math.abs(result.equity[s + 1]! - ep.equity[s]!));
        expect(maxDiff).toBeLessThanOrEqual(1e-9);
        expect(Math.abs(result.finalValue - ep.equity[L - 1]!)).toBeLessThanOrEqual(1e-9);
        worst = Math.max(worst, maxDiff);
        denied += ep.denied;
      }
      console.log(`${c.name}: ${eps.length} episodes, ${totalFills} fills, ${denied} orders refused for margin, max |equity difference| ${worst}`);
      expect(totalFills).toBeGreaterThan(100);
      if (c.name.includes("margin") || c.instrument.marginRate !== undefined) expect(denied).toBeGreaterThan(0);
    });
  }

  it("refuses orders beyond the margin like SimExchange (3 NQ contracts on 45k never fill)", () => {
    const c = CASES[0]!;
    const ds = dataset(c);
    const env = new VecTradingEnv({ dataset: ds, numEnvs: 1, window: 4, span: { from: 0, to: ds.length }, episodeLength: 100, actions: { mode: "target", contractSize: 1, maxUnits: 3 }, cash: 45_000 });
    env.reset(1);
    const a = new Int32Array([6]); // +3 contracts: 57k margin > 45k equity
    for (let s = 0; s < 50; s++) {
      env.step(a);
      expect(env.pos[0]).toBe(0);
    }
    a[0] = 5; // +2: 38k <= 45k
    env.step(a);
    expect(env.pos[0]).toBe(2);
  });

  it("is deterministic given the seed, and env i's episodes do not depend on the other envs", () => {
    const c = CASES[0]!;
    const ds = dataset(c);
    const make = (n: number) => new VecTradingEnv({ dataset: ds, numEnvs: n, window: 8, span: { from: 0, to: ds.length }, episodeLength: 200, actions: { mode: "target", contractSize: 1, maxUnits: 1 }, cash: 100_000 });
    const run = (env: VecTradingEnv, seed: number) => {
      env.reset(seed);
      const a = new Int32Array(env.numEnvs);
      const perEnv: { rewards: number[]; starts: number[] }[] = Array.from({ length: env.numEnvs }, () => ({ rewards: [], starts: [env.startBar[0]!] }));
      for (let i = 0; i < env.numEnvs; i++) perEnv[i]!.starts[0] = env.startBar[i]!;
      for (let s = 0; s < 1000; s++) {
        // each env's actions depend on its index and the step only
        for (let i = 0; i < env.numEnvs; i++) a[i] = ((s >> 4) * 7 + i * 5) % 3;
        const r = env.step(a);
        for (let i = 0; i < env.numEnvs; i++) {
          perEnv[i]!.rewards.push(r.rewards[i]!);
          if (r.truncated[i]) perEnv[i]!.starts.push(env.startBar[i]!);
        }
      }
      return { perEnv, obs: Array.from(env.obs) };
    };
    const a = run(make(8), 3);
    const b = run(make(8), 3);
    expect(a).toEqual(b);
    const four = run(make(4), 3);
    for (let i = 0; i < 4; i++) expect(four.perEnv[i]).toEqual(a.perEnv[i]);
    expect(a.perEnv[0]!.starts.length).toBe(6);
    const other = run(make(8), 4);
    expect(other.perEnv[0]!.starts).not.toEqual(a.perEnv[0]!.starts);
  });

  it("auto-resets with final episode statistics, and the episode return is the sum of rewards", () => {
    const ds = dataset(CASES[0]!);
    const env = new VecTradingEnv({ dataset: ds, numEnvs: 2, window: 8, span: { from: 1000, to: 2000 }, episodeLength: 50, actions: { mode: "target", contractSize: 1, maxUnits: 1 }, cash: 100_000, reward: { kind: "pnl", scale: 1 } });
    env.reset(9);
    for (let i = 0; i < 2; i++) {
      expect(env.bar[i]).toBeGreaterThanOrEqual(1000);
      expect(env.bar[i]! + 50).toBeLessThanOrEqual(1999);
    }
    const a = new Int32Array([2, 0]);
    const sums = new Float64Array(2);
    for (let s = 0; s < 50; s++) {
      const r = env.step(a);
      sums[0] = sums[0]! + r.rewards[0]!;
      sums[1] = sums[1]! + r.rewards[1]!;
      if (s < 49) expect(Array.from(r.truncated)).toEqual([0, 0]);
    }
    expect(Array.from(env.truncated)).toEqual([1, 1]);
    for (let i = 0; i < 2; i++) {
      expect(env.finalLength[i]).toBe(50);
      // rewards are float32: their sum matches the equity change to float32 precision
      expect(Math.abs(env.finalReturn[i]! - env.finalEquityChange[i]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(env.finalEquityChange[i]!)) + 1e-3);
      expect(Math.abs(sums[i]! - env.finalEquityChange[i]!)).toBeLessThan(1e-2);
      // a fresh episode: flat, full cash, new start
      expect(env.pos[i]).toBe(0);
      expect(env.equity[i]).toBe(100_000);
      expect(env.episodeLength[i]).toBe(0);
    }
    // the final observation holds the position of the finished episode (long for env 0, short for env 1)
    const S = env.obsSize;
    expect(env.finalObs[0 * S + S - 2]).toBe(1);
    expect(env.finalObs[1 * S + S - 2]).toBe(-1);
  });

  it("differential Sharpe ratio reward follows Moody & Saffell's recursion", () => {
    const ds = dataset(CASES[0]!);
    const eta = 0.05;
    const env = new VecTradingEnv({ dataset: ds, numEnvs: 1, window: 8, span: { from: 0, to: ds.length }, episodeLength: 300, actions: { mode: "target", contractSize: 1, maxUnits: 1 }, cash: 100_000, reward: { kind: "dsr", eta, clip: 1e9 } });
    env.reset(2);
    let A = 0;
    let B = 0;
    let prevEq = 100_000;
    const a = new Int32Array([2]);
    for (let s = 0; s < 200; s++) {
      const r = env.step(a);
      const eq = env.equity[0]!;
      const R = eq / prevEq - 1;
      const v = B - A * A;
      const D = v > 0 ? (B * (R - A) - 0.5 * A * (R * R - B)) / Math.pow(v, 1.5) : 0;
      A += eta * (R - A);
      B += eta * (R * R - B);
      prevEq = eq;
      expect(r.rewards[0]).toBeCloseTo(Math.fround(D), 3);
    }
  });

  it("flat at session end: no position is held over a session's last bar", () => {
    const c = CASES[2]!;
    const ds = dataset(c);
    const env = new VecTradingEnv({ dataset: ds, numEnvs: 3, window: 8, span: { from: 0, to: ds.length }, episodeLength: 500, actions: { mode: "trade", contractSize: 10, maxUnits: 2 }, cash: 10_000, flatAtSessionEnd: true });
    env.reset(4);
    const a = new Int32Array([1, 1, 2]);
    let checked = 0;
    for (let s = 0; s < 400; s++) {
      env.step(a);
      for (let i = 0; i < 3; i++) {
        if (ds.lastOfSession[env.bar[i]!] === 1 && env.episodeLength[i]! > 0) {
          expect(env.pos[i]).toBe(0);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it("rejects impossible configurations field by field, and bad actions by index", () => {
    const ds = dataset(CASES[0]!, 500);
    const base = { dataset: ds, numEnvs: 2, window: 8, span: { from: 0, to: ds.length }, episodeLength: 50, actions: { mode: "target" as const, contractSize: 1 }, cash: 1000 };
    const field = (over: object) => {
      try {
        new VecTradingEnv({ ...base, ...over });
      } catch (e) {
        expect(e).toBeInstanceOf(EnvConfigError);
        return (e as EnvConfigError).field;
      }
      return "no error";
    };
    expect(field({ numEnvs: 0 })).toBe("numEnvs");
    expect(field({ window: 1.5 })).toBe("window");
    expect(field({ cash: -1 })).toBe("cash");
    expect(field({ span: { from: 10, to: 5 } })).toBe("span");
    expect(field({ episodeLength: 10_000 })).toBe("episodeLength");
    expect(field({ actions: { mode: "target", contractSize: 0 } })).toBe("actions.contractSize");
    expect(field({ reward: { kind: "dsr", eta: 2 } })).toBe("reward.eta");
    const env = new VecTradingEnv(base);
    env.reset(1);
    expect(() => env.step(new Int32Array([0, 3]))).toThrow(/actions\[1\] = 3/);
  });
});
