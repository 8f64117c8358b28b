/**
 * The trading environment (engine/rl/env, float32 observations, flat state)
 * seen through the algorithms' VecEnv contract (float64 observations, exact
 * save/restore of every per-environment array including its random stream).
 */
import type { TypedArray } from "../nn/checkpoint";
import type { EnvSnapshot, ObsLayout, VecEnv, VecStep } from "../algos/env";
import type { VecTradingEnv } from "../env/trading-env";

/** Every array of the environment's state (inputs such as the feature matrix are not state). */
const STATE_KEYS = [
  "bar", "endBar", "startBar", "pos", "costTk", "lotQty", "lotTk", "lotHead", "lotCount", "realS", "realC", "commS", "commC",
  "equity", "peak", "dsrA", "dsrB", "episodeReturn", "episodeLength", "fillPrice", "fillQty", "fillCommission",
  "finalReturn", "finalEquityChange", "finalLength", "finalObs", "rng", "obs", "rewards", "terminated", "truncated",
] as const;

export class TradingVecEnv implements VecEnv {
  readonly id: string;
  readonly numEnvs: number;
  readonly obsSize: number;
  readonly numActions: number;
  readonly obsLayout: ObsLayout;
  readonly obs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly finalObs: Float64Array;
  readonly episodeReturn: Float64Array;
  readonly episodeLength: Int32Array;

  constructor(
    readonly inner: VecTradingEnv,
    id: string,
  ) {
    this.id = id;
    this.numEnvs = inner.numEnvs;
    this.obsSize = inner.obsSize;
    this.numActions = inner.numActions;
    this.obsLayout = { window: inner.window, features: inner.dataset.features.width, extra: inner.obsSize - inner.window * inner.dataset.features.width };
    this.obs = new Float64Array(inner.numEnvs * inner.obsSize);
    this.rewards = new Float64Array(inner.numEnvs);
    this.terminated = new Uint8Array(inner.numEnvs);
    this.truncated = new Uint8Array(inner.numEnvs);
    this.finalObs = new Float64Array(inner.numEnvs * inner.obsSize);
    this.episodeReturn = new Float64Array(inner.numEnvs);
    this.episodeLength = new Int32Array(inner.numEnvs);
  }

  describeObs(i: number, k: number): string {
    const { window: W, features: F } = this.obsLayout;
    if (k >= W * F) return k === W * F ? "the position feature" : "the unrealized P&L feature";
    const ds = this.inner.dataset;
    const bar = this.inner.bar[i]! - (W - 1 - Math.floor(k / F));
    const t = ds.bars.ts[bar];
    return `feature ${ds.features.names[k % F] ?? k % F} of bar ${bar}${t !== undefined ? ` (${new Date(t).toISOString()})` : ""}`;
  }

  reset(seed: number): Float64Array {
    const o = this.inner.reset(seed);
    for (let k = 0; k < o.length; k++) this.obs[k] = o[k]!;
    return this.obs;
  }

  step(actions: Int32Array): VecStep {
    const r = this.inner.step(actions);
    const obs = this.obs;
    for (let k = 0; k < r.obs.length; k++) obs[k] = r.obs[k]!;
    const inner = this.inner;
    for (let i = 0; i < this.numEnvs; i++) {
      this.rewards[i] = r.rewards[i]!;
      this.terminated[i] = r.terminated[i]!;
      this.truncated[i] = r.truncated[i]!;
      if (r.terminated[i] || r.truncated[i]) {
        this.episodeReturn[i] = inner.finalReturn[i]!;
        this.episodeLength[i] = inner.finalLength[i]!;
        const O = this.obsSize;
        for (let k = 0; k < O; k++) this.finalObs[i * O + k] = inner.finalObs[i * O + k]!;
      }
    }
    return this;
  }

  private arrays(): Record<string, TypedArray> {
    const src = this.inner as unknown as Record<string, unknown>;
    const out: Record<string, TypedArray> = {};
    for (const k of STATE_KEYS) {
      const a = src[k];
      if (ArrayBuffer.isView(a)) out[`trading.${k}`] = a as TypedArray;
    }
    out["adapter.obs"] = this.obs;
    out["adapter.finalObs"] = this.finalObs;
    out["adapter.episodeReturn"] = this.episodeReturn;
    out["adapter.episodeLength"] = this.episodeLength;
    return out;
  }

  saveState(): EnvSnapshot {
    const arrays: Record<string, TypedArray> = {};
    for (const [k, a] of Object.entries(this.arrays())) arrays[k] = a.slice() as TypedArray;
    return { meta: { id: this.id, episodesDone: this.inner.episodesDone }, arrays };
  }

  loadState(s: EnvSnapshot): void {
    const mine = this.arrays();
    for (const [k, a] of Object.entries(mine)) {
      const saved = s.arrays[k];
      if (!saved || saved.length !== a.length) throw new Error(`trading environment checkpoint: ${k} is missing or has another size`);
      (a as Float64Array).set(saved as Float64Array);
    }
    const meta = s.meta as { episodesDone?: number } | null;
    this.inner.restored(meta?.episodesDone ?? 0);
  }
}
