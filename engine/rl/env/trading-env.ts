/**
 * The vectorised trading environment: N independent accounts trading one
 * dataset, all state in flat typed arrays, deterministic given a seed.
 *
 * Time and fills (the trading core's fill model, README "Fill model"): an
 * action is chosen on bar t's close, from an observation built from feature
 * rows t-window+1..t and the account at t's close; it becomes a market order
 * for the difference between the target and the current position, which fills
 * at bar t+1's open plus slippage (dataset.buyPx / sellPx, computed with the
 * core's slipped() and TickGrid); commission per the instrument's model
 * (core commissionFor's formula); margin checked like SimExchange (at
 * submission against the close, at the fill against the fill price: an order
 * that would need more initial margin than the equity is denied / cancelled
 * and the position stays). Equity is marked at bar t+1's close exactly like
 * the core's Account (cash = initial + realized ticks x tick value -
 * commissions, compensated sums; unrealized = (qty x close/tick - cost ticks)
 * x tick value). env.test.ts replays the same actions through runBacktest and
 * gets the same fills and equity curve.
 *
 * Actions (discrete, `contractSize` contracts per unit, at most `maxUnits` units):
 * - mode "target": 2 x maxUnits + 1 actions, action a -> target (a - maxUnits)
 *   units; with maxUnits 1: 0 short, 1 flat, 2 long;
 * - mode "trade": 0 hold, 1 buy one unit, 2 sell one unit, 3 close (capped at maxUnits).
 *
 * Observation of env i (obsSize = window x features + 2), float32:
 *   [feature rows t-window+1 .. t, oldest first, row-major] [position / (maxUnits x contractSize)] [unrealized P&L / unrealizedScale]
 *
 * Rewards (per step; the episode return is their sum):
 * - "pnl": change in equity, net of commissions and slippage, x scale
 *   (default 100 / cash: percent of the initial cash);
 * - "pnl_drawdown": the same minus lambda x the increase of the drawdown
 *   (peak equity - equity, currency) x scale;
 * - "dsr": Moody & Saffell's differential Sharpe ratio of the per-step
 *   returns, EMA rate eta, clipped to [-clip, clip].
 *
 * Episodes: a random start in the span (randomStart, the default) and
 * `episodeLength` steps (truncated at the end), or sequential from the span's
 * start to its end (evaluation). terminated = equity fell to ruin x cash.
 * Auto-reset: when env i ends, step() returns the first observation of its
 * next episode in obs, the last observation of the finished one in finalObs,
 * and finalReturn / finalEquityChange / finalLength hold its statistics.
 */
import type { TradingDataset } from "./dataset";
import { commissionCode } from "./dataset";
import { nextInt, seedStream } from "./prng";

export type ActionMode = "target" | "trade";

export type RewardSpec =
  | { kind: "pnl"; scale?: number }
  | { kind: "pnl_drawdown"; lambda: number; scale?: number }
  | { kind: "dsr"; eta?: number; clip?: number };

export interface TradingEnvConfig {
  dataset: TradingDataset;
  numEnvs: number;
  /** Feature rows per observation. */
  window: number;
  /** Bars [from, to) the episodes live in (decisions and fills): the training span, or an evaluation span. */
  span: { from: number; to: number };
  /** Steps per episode; 0 = from the start to the end of the span. */
  episodeLength: number;
  /** Random episode starts (default true); false = every episode runs the whole span from its start. */
  randomStart?: boolean;
  actions: { mode: ActionMode; contractSize: number; maxUnits?: number };
  reward?: RewardSpec;
  cash: number;
  /** Flat before each session's end: a decision whose fill bar is the session's last bar targets 0. */
  flatAtSessionEnd?: boolean;
  /** Terminate an episode when equity <= ruin x cash (default 0). */
  ruin?: number;
  /** Unrealized P&L in the observation is divided by this (default 1 % of cash). */
  unrealizedScale?: number;
}

export interface StepResult {
  obs: Float32Array;
  rewards: Float32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
}

export class EnvConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "EnvConfigError";
  }
}

/**
 * A 3-instruction WebAssembly function over an imported memory:
 *   (func (export "c") (param $dst i32) (param $src i32) (param $len i32) memory.copy)
 * Copying observation windows with it is a native memmove without the
 * TypedArray view that `obs.set(features.subarray(...))` allocates per copy
 * (1.5-3x faster, no garbage). The environment keeps its own copy of the
 * feature matrix and its observation buffer in one WebAssembly.Memory.
 */
const WASM_COPY = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 3, 127, 127, 127, 0, 2, 8, 1, 1, 101, 1, 109, 2, 0, 1, 3, 2, 1, 0, 7, 5, 1, 1, 99, 0, 0, 10, 14, 1, 12, 0, 32, 0, 32, 1, 32, 2, 252, 10, 0, 0, 11]);
let wasmCopyModule: WebAssembly.Module | null | undefined;

export interface WasmObs {
  feat: Float32Array;
  obs: Float32Array;
  /** Byte offset of obs in the memory. */
  obsByte: number;
  copy: (dst: number, src: number, len: number) => void;
}

export function wasmObsBuffers(features: Float32Array, obsLen: number): WasmObs | null {
  try {
    wasmCopyModule ??= new WebAssembly.Module(WASM_COPY);
  } catch {
    wasmCopyModule = null;
  }
  if (!wasmCopyModule) return null;
  const featBytes = features.length * 4;
  const obsByte = Math.ceil(featBytes / 64) * 64;
  const total = obsByte + obsLen * 4;
  if (total > 2 ** 31) return null;
  const mem = new WebAssembly.Memory({ initial: Math.ceil(total / 65536) || 1 });
  const inst = new WebAssembly.Instance(wasmCopyModule, { e: { m: mem } });
  const feat = new Float32Array(mem.buffer, 0, features.length);
  feat.set(features);
  return { feat, obs: new Float32Array(mem.buffer, obsByte, obsLen), obsByte, copy: inst.exports.c as (dst: number, src: number, len: number) => void };
}

const REWARD_PNL = 0;
const REWARD_PNL_DD = 1;
const REWARD_DSR = 2;

/** Target position (contracts) for an action from position q; shared with the backtest replay. */
export function actionTarget(mode: ActionMode, action: number, q: number, size: number, maxUnits: number): number {
  if (mode === "target") return (action - maxUnits) * size;
  const cap = maxUnits * size;
  switch (action) {
    case 0:
      return q;
    case 1:
      return Math.min(q + size, cap);
    case 2:
      return Math.max(q - size, -cap);
    default:
      return 0;
  }
}

export function numActionsFor(mode: ActionMode, maxUnits: number): number {
  return mode === "target" ? 2 * maxUnits + 1 : 4;
}

export class VecTradingEnv {
  readonly numEnvs: number;
  readonly obsSize: number;
  readonly numActions: number;
  readonly window: number;
  readonly featureWidth: number;
  readonly dataset: TradingDataset;
  readonly config: Readonly<TradingEnvConfig>;

  // ----- per-env state (flat typed arrays, index = env)
  /** Current decision bar. */
  readonly bar: Int32Array;
  /** Bar at which the episode is truncated (the last fill bar). */
  readonly endBar: Int32Array;
  readonly startBar: Int32Array;
  /** Signed position, contracts. */
  readonly pos: Float64Array;
  /** Sum over open lots of qty x entry ticks (the core Account's costTicks). */
  readonly costTk: Float64Array;
  /** Open lots, FIFO ring of maxUnits per env (a lot is at least one unit): signed qty and entry ticks. */
  private readonly lotQty: Float64Array;
  private readonly lotTk: Float64Array;
  private readonly lotHead: Int32Array;
  private readonly lotCount: Int32Array;
  private readonly lotCap: number;
  /** Realized P&L in ticks and commissions, Neumaier sums (value + compensation). */
  private readonly realS: Float64Array;
  private readonly realC: Float64Array;
  private readonly commS: Float64Array;
  private readonly commC: Float64Array;
  /** Equity marked at the current bar's close. */
  readonly equity: Float64Array;
  readonly peak: Float64Array;
  private readonly dsrA: Float64Array;
  private readonly dsrB: Float64Array;
  readonly episodeReturn: Float64Array;
  readonly episodeLength: Int32Array;
  /** Fill of the last step: price (NaN when none), signed quantity, commission. */
  readonly fillPrice: Float64Array;
  readonly fillQty: Float64Array;
  readonly fillCommission: Float64Array;
  /** Statistics of the episode that ended at the last step (valid where terminated | truncated). */
  readonly finalReturn: Float64Array;
  readonly finalEquityChange: Float64Array;
  readonly finalLength: Int32Array;
  readonly finalObs: Float32Array;
  /** Episodes finished since reset. */
  episodesDone = 0;
  private readonly rng: Uint32Array;

  // ----- outputs (reused every step)
  readonly obs: Float32Array;
  readonly rewards: Float32Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;

  // ----- constants
  private readonly mode: number;
  private readonly size: number;
  private readonly maxUnits: number;
  private readonly cash: number;
  private readonly lo: number;
  private readonly hiStart: number;
  private readonly epLen: number;
  private readonly randomStart: boolean;
  private readonly rewardKind: number;
  private readonly rewardScale: number;
  private readonly lambda: number;
  private readonly eta: number;
  private readonly dsrClip: number;
  private readonly ruinLevel: number;
  private readonly unrealInv: number;
  private readonly posInv: number;
  private readonly commCode: number;
  private readonly commParam: number;
  private readonly pointValue: number;
  private readonly marginKind: number;
  private readonly marginParam: number;
  private readonly flatMask: Uint8Array | null;
  private readonly result: StepResult;
  private seeded = false;
  /** Observation copies through WebAssembly memory.copy (null: TypedArray set/subarray). */
  private readonly wasm: WasmObs | null;
  /** Feature matrix the observations are copied from (the dataset's, or its copy in WebAssembly memory). */
  private readonly feat: Float32Array;

  constructor(cfg: TradingEnvConfig) {
    const ds = cfg.dataset;
    const fail = (field: string, msg: string): never => {
      throw new EnvConfigError(field, msg);
    };
    const isInt = (v: number, min: number) => Number.isInteger(v) && v >= min;
    if (!isInt(cfg.numEnvs, 1)) fail("numEnvs", `must be an integer >= 1, got ${cfg.numEnvs}`);
    if (!isInt(cfg.window, 1)) fail("window", `must be an integer >= 1, got ${cfg.window}`);
    if (!isInt(cfg.episodeLength, 0)) fail("episodeLength", `must be an integer >= 0, got ${cfg.episodeLength}`);
    if (!(cfg.cash > 0) || !Number.isFinite(cfg.cash)) fail("cash", `must be a positive number, got ${cfg.cash}`);
    if (!(cfg.actions.contractSize > 0) || !Number.isFinite(cfg.actions.contractSize)) fail("actions.contractSize", `must be > 0, got ${cfg.actions.contractSize}`);
    const maxUnits = cfg.actions.maxUnits ?? 1;
    if (!isInt(maxUnits, 1)) fail("actions.maxUnits", `must be an integer >= 1, got ${maxUnits}`);
    if (cfg.actions.mode !== "target" && cfg.actions.mode !== "trade") fail("actions.mode", `must be "target" or "trade", got ${String(cfg.actions.mode)}`);
    const { from, to } = cfg.span;
    if (!(isInt(from, 0) && isInt(to, 1) && to <= ds.length && from < to)) fail("span", `must be integer bars 0 <= from < to <= ${ds.length}, got [${from}, ${to})`);
    const ruin = cfg.ruin ?? 0;
    if (!(ruin >= 0 && ruin < 1)) fail("ruin", `must be in [0, 1), got ${ruin}`);
    const reward = cfg.reward ?? { kind: "pnl" };
    if (reward.kind === "pnl_drawdown" && !(reward.lambda >= 0)) fail("reward.lambda", `must be >= 0, got ${reward.lambda}`);
    if (reward.kind === "dsr" && reward.eta !== undefined && !(reward.eta > 0 && reward.eta < 1)) fail("reward.eta", `must be in (0, 1), got ${reward.eta}`);
    if ((reward.kind === "pnl" || reward.kind === "pnl_drawdown") && reward.scale !== undefined && !(reward.scale > 0)) fail("reward.scale", `must be > 0, got ${reward.scale}`);

    // episode starts: the first decision bar needs a full window of defined features; the last fill bar is to - 1
    const lo = Math.max(from, ds.features.validFrom + cfg.window - 1);
    const maxLen = to - 1 - lo;
    if (maxLen < 1) fail("span", `too short: bars [${from}, ${to}) leave no step after the features' warm-up (first usable bar ${lo}; window ${cfg.window}, features defined from bar ${ds.features.validFrom})`);
    const epLen = cfg.episodeLength === 0 ? maxLen : cfg.episodeLength;
    if (epLen > maxLen) fail("episodeLength", `${epLen} steps do not fit in the span: at most ${maxLen} from bar ${lo}`);

    this.dataset = ds;
    this.config = cfg;
    this.numEnvs = cfg.numEnvs;
    this.window = cfg.window;
    this.featureWidth = ds.features.width;
    this.obsSize = cfg.window * ds.features.width + 2;
    this.numActions = cfg.actions.mode === "target" ? 2 * maxUnits + 1 : 4;
    this.mode = cfg.actions.mode === "target" ? 0 : 1;
    this.size = cfg.actions.contractSize;
    this.maxUnits = maxUnits;
    this.cash = cfg.cash;
    this.lo = lo;
    this.epLen = epLen;
    this.randomStart = cfg.randomStart ?? true;
    this.hiStart = this.randomStart ? to - 1 - epLen : lo;
    this.rewardKind = reward.kind === "pnl" ? REWARD_PNL : reward.kind === "pnl_drawdown" ? REWARD_PNL_DD : REWARD_DSR;
    this.rewardScale = reward.kind !== "dsr" ? (reward.scale ?? 100 / cfg.cash) : 1;
    this.lambda = reward.kind === "pnl_drawdown" ? reward.lambda : 0;
    this.eta = reward.kind === "dsr" ? (reward.eta ?? 0.01) : 0;
    this.dsrClip = reward.kind === "dsr" ? (reward.clip ?? 5) : 0;
    this.ruinLevel = ruin * cfg.cash;
    this.unrealInv = 1 / (cfg.unrealizedScale ?? cfg.cash * 0.01);
    this.posInv = 1 / (maxUnits * cfg.actions.contractSize);
    [this.commCode, this.commParam] = commissionCode(ds.market.commission);
    const inst = ds.market.instrument;
    this.pointValue = inst.pointValue;
    if (inst.marginPerContract !== undefined) {
      this.marginKind = 1;
      this.marginParam = inst.marginPerContract;
    } else if (inst.marginRate !== undefined) {
      this.marginKind = 2;
      this.marginParam = inst.marginRate;
    } else {
      this.marginKind = 0;
      this.marginParam = 0;
    }
    if (cfg.flatAtSessionEnd) {
      // decision at t fills on t+1: if t+1 is the session's last bar, be flat from its open
      const n = ds.length;
      const mask = new Uint8Array(n);
      for (let t = 0; t + 1 < n; t++) mask[t] = ds.lastOfSession[t + 1]!;
      this.flatMask = mask;
    } else this.flatMask = null;

    const N = this.numEnvs;
    this.bar = new Int32Array(N);
    this.endBar = new Int32Array(N);
    this.startBar = new Int32Array(N);
    this.pos = new Float64Array(N);
    this.costTk = new Float64Array(N);
    this.lotCap = maxUnits + 1;
    this.lotQty = new Float64Array(N * this.lotCap);
    this.lotTk = new Float64Array(N * this.lotCap);
    this.lotHead = new Int32Array(N);
    this.lotCount = new Int32Array(N);
    this.realS = new Float64Array(N);
    this.realC = new Float64Array(N);
    this.commS = new Float64Array(N);
    this.commC = new Float64Array(N);
    this.equity = new Float64Array(N);
    this.peak = new Float64Array(N);
    this.dsrA = new Float64Array(N);
    this.dsrB = new Float64Array(N);
    this.episodeReturn = new Float64Array(N);
    this.episodeLength = new Int32Array(N);
    this.fillPrice = new Float64Array(N).fill(NaN);
    this.fillQty = new Float64Array(N);
    this.fillCommission = new Float64Array(N);
    this.finalReturn = new Float64Array(N);
    this.finalEquityChange = new Float64Array(N);
    this.finalLength = new Int32Array(N);
    this.finalObs = new Float32Array(N * this.obsSize);
    this.rng = new Uint32Array(4 * N);
    this.wasm = cfg.window * ds.features.width >= 24 ? wasmObsBuffers(ds.features.data, N * this.obsSize) : null;
    this.obs = this.wasm ? this.wasm.obs : new Float32Array(N * this.obsSize);
    this.feat = this.wasm ? this.wasm.feat : ds.features.data;
    this.rewards = new Float32Array(N);
    this.terminated = new Uint8Array(N);
    this.truncated = new Uint8Array(N);
    this.result = { obs: this.obs, rewards: this.rewards, terminated: this.terminated, truncated: this.truncated };
  }

  /** First usable decision bar and the number of steps per episode. */
  get episodeBounds(): { firstBar: number; lastStart: number; steps: number } {
    return { firstBar: this.lo, lastStart: this.hiStart, steps: this.epLen };
  }

  /** Marks the environment ready to step after its state arrays were restored from a checkpoint (see train/trading-vecenv.ts). */
  restored(episodesDone = 0): void {
    this.seeded = true;
    this.episodesDone = episodesDone;
  }

  /** Reset every environment; env i's random stream is seeded from (seed, i). */
  reset(seed: number): Float32Array {
    const N = this.numEnvs;
    for (let i = 0; i < N; i++) seedStream(this.rng, i, seed, i);
    this.seeded = true;
    this.episodesDone = 0;
    for (let i = 0; i < N; i++) {
      this.resetEnv(i);
      this.writeObs(i, this.obs, i * this.obsSize);
    }
    this.rewards.fill(0);
    this.terminated.fill(0);
    this.truncated.fill(0);
    return this.obs;
  }

  private resetEnv(i: number): void {
    const start = this.randomStart ? this.lo + nextInt(this.rng, i, this.hiStart - this.lo + 1) : this.lo;
    this.startBar[i] = start;
    this.bar[i] = start;
    this.endBar[i] = start + this.epLen;
    this.pos[i] = 0;
    this.costTk[i] = 0;
    this.lotHead[i] = 0;
    this.lotCount[i] = 0;
    this.realS[i] = 0;
    this.realC[i] = 0;
    this.commS[i] = 0;
    this.commC[i] = 0;
    this.equity[i] = this.cash;
    this.peak[i] = this.cash;
    this.dsrA[i] = 0;
    this.dsrB[i] = 0;
    this.episodeReturn[i] = 0;
    this.episodeLength[i] = 0;
  }

  /** Observation of env i at its current bar into out[off .. off + obsSize). */
  writeObs(i: number, out: Float32Array, off: number): void {
    const F = this.featureWidth;
    const W = this.window;
    const feat = this.feat;
    const t = this.bar[i]!;
    const src = (t - W + 1) * F;
    const len = W * F;
    if (this.wasm !== null && out === this.obs) this.wasm.copy(this.wasm.obsByte + off * 4, src * 4, len * 4);
    else if (len >= 24) out.set(feat.subarray(src, src + len), off);
    else for (let k = 0; k < len; k++) out[off + k] = feat[src + k]!;
    const q = this.pos[i]!;
    out[off + len] = q * this.posInv;
    out[off + len + 1] = q === 0 ? 0 : (q * this.dataset.markTk[t]! - this.costTk[i]!) * this.dataset.tickValue * this.unrealInv;
  }

  /**
   * Advance every environment by one bar with actions[i] in [0, numActions).
   * The returned arrays are owned by the environment and overwritten by the next step.
   */
  step(actions: Int32Array): StepResult {
    if (!this.seeded) throw new Error("step() before reset(seed)");
    const N = this.numEnvs;
    if (actions.length < N) throw new RangeError(`actions: expected ${N} entries, got ${actions.length}`);
    const ds = this.dataset;
    const feat = this.feat;
    const wasmCopy = this.wasm !== null ? this.wasm.copy : null;
    const obsByte = this.wasm !== null ? this.wasm.obsByte : 0;
    const buyPx = ds.buyPx;
    const sellPx = ds.sellPx;
    const buyTk = ds.buyTk;
    const sellTk = ds.sellTk;
    const markTk = ds.markTk;
    const close = ds.bars.close;
    const tv = ds.tickValue;
    const pv = this.pointValue;
    const bar = this.bar;
    const endBar = this.endBar;
    const pos = this.pos;
    const costTk = this.costTk;
    const lotQty = this.lotQty;
    const lotTk = this.lotTk;
    const lotHead = this.lotHead;
    const lotCount = this.lotCount;
    const lotCap = this.lotCap;
    const realS = this.realS;
    const realC = this.realC;
    const commS = this.commS;
    const commC = this.commC;
    const equity = this.equity;
    const peak = this.peak;
    const epRet = this.episodeReturn;
    const epLen = this.episodeLength;
    const fillPrice = this.fillPrice;
    const fillQty = this.fillQty;
    const fillComm = this.fillCommission;
    const obs = this.obs;
    const rewards = this.rewards;
    const term = this.terminated;
    const trunc = this.truncated;
    const flatMask = this.flatMask;
    const mode = this.mode;
    const size = this.size;
    const cap = this.maxUnits * size;
    const maxUnits = this.maxUnits;
    const nA = this.numActions;
    const cash = this.cash;
    const commCode = this.commCode;
    const commParam = this.commParam;
    const marginKind = this.marginKind;
    const marginParam = this.marginParam;
    const rewardKind = this.rewardKind;
    const scale = this.rewardScale;
    const ruinLevel = this.ruinLevel;
    const F = this.featureWidth;
    const W = this.window;
    const WF = W * F;
    const S = this.obsSize;
    const posInv = this.posInv;
    const unrealInv = this.unrealInv;

    for (let i = 0; i < N; i++) {
      const a = actions[i]!;
      if (!(a >= 0 && a < nA && (a | 0) === a)) throw new RangeError(`actions[${i}] = ${a}: must be an integer in [0, ${nA})`);
      const t = bar[i]!;
      const t1 = t + 1;
      const q = pos[i]!;
      const eq0 = equity[i]!;
      let target: number;
      if (mode === 0) target = (a - maxUnits) * size;
      else target = a === 0 ? q : a === 1 ? (q + size < cap ? q + size : cap) : a === 2 ? (q - size > -cap ? q - size : -cap) : 0;
      if (flatMask !== null && flatMask[t] === 1) target = 0;
      let d = target - q;
      let fpx = NaN;
      let comm = 0;
      if (d !== 0) {
        const absT = target < 0 ? -target : target;
        const absQ = q < 0 ? -q : q;
        const buy = d > 0;
        const px = buy ? buyPx[t1]! : sellPx[t1]!;
        if (marginKind !== 0 && absT > absQ) {
          // SimExchange.marginShortfall: at submission against the close, at the fill against the fill price;
          // equity at the last price (bar t's close) both times
          const c = close[t]!;
          const mSubmit = marginKind === 1 ? absT * marginParam : absT * c * pv * marginParam;
          const mFill = marginKind === 1 ? absT * marginParam : absT * px * pv * marginParam;
          if (mSubmit > eq0 + 1e-9 || mFill > eq0 + 1e-9) d = 0;
        }
        if (d !== 0) {
          const tk = buy ? buyTk[t1]! : sellTk[t1]!;
          const qty = buy ? d : -d;
          comm = commCode === 0 ? 0 : commCode === 1 ? commParam * qty : commCode === 2 ? commParam * qty * px * pv : commParam;
          // Account.fill: close against the open lots first (FIFO), then open the rest as a new lot
          let newQ = q;
          let rem = d;
          const base = i * lotCap;
          if (q !== 0 && q > 0 !== d > 0) {
            const closeQty = qty < absQ ? qty : absQ;
            let toClose = closeQty;
            let realized = 0;
            let h = lotHead[i]!;
            let cnt = lotCount[i]!;
            let cost = costTk[i]!;
            while (toClose > 0) {
              const lq = lotQty[base + h]!;
              const lt = lotTk[base + h]!;
              const alq = lq < 0 ? -lq : lq;
              const take = alq < toClose ? alq : toClose;
              const dir = lq > 0 ? 1 : -1;
              realized += (tk - lt) * take * dir;
              cost -= dir * take * lt;
              toClose -= take;
              if (take === alq) {
                h = h + 1 === lotCap ? 0 : h + 1;
                cnt--;
              } else lotQty[base + h] = lq - dir * take;
            }
            // Neumaier add, as the Account's realized-ticks sum
            const s0 = realS[i]!;
            const ts = s0 + realized;
            realC[i] = realC[i]! + (Math.abs(s0) >= Math.abs(realized) ? s0 - ts + realized : realized - ts + s0);
            realS[i] = ts;
            newQ = q + (d > 0 ? closeQty : -closeQty);
            rem = d - (d > 0 ? closeQty : -closeQty);
            if (newQ === 0) {
              h = 0;
              cnt = 0;
              cost = 0;
            }
            lotHead[i] = h;
            lotCount[i] = cnt;
            costTk[i] = cost;
          }
          if (rem !== 0) {
            const cnt = lotCount[i]!;
            if (cnt === lotCap) throw new Error(`env ${i}: more than ${lotCap} open lots (contract size not a clean multiple?)`);
            let slot = lotHead[i]! + cnt;
            if (slot >= lotCap) slot -= lotCap;
            lotQty[base + slot] = rem;
            lotTk[base + slot] = tk;
            lotCount[i] = cnt + 1;
            costTk[i] = costTk[i]! + rem * tk;
            newQ += rem;
          }
          pos[i] = newQ;
          const c0 = commS[i]!;
          const cs = c0 + comm;
          commC[i] = commC[i]! + (Math.abs(c0) >= Math.abs(comm) ? c0 - cs + comm : comm - cs + c0);
          commS[i] = cs;
          fpx = px;
        }
      }
      fillPrice[i] = fpx;
      fillQty[i] = d;
      fillComm[i] = comm;

      // mark at bar t+1's close (Account.equity)
      const qn = pos[i]!;
      const cashNow = cash + (realS[i]! + realC[i]!) * tv - (commS[i]! + commC[i]!);
      const unreal = qn === 0 ? 0 : (qn * markTk[t1]! - costTk[i]!) * tv;
      const eq1 = cashNow + unreal;
      equity[i] = eq1;
      bar[i] = t1;

      let r: number;
      if (rewardKind === REWARD_PNL) r = (eq1 - eq0) * scale;
      else if (rewardKind === REWARD_PNL_DD) {
        const p0 = peak[i]!;
        const dd0 = p0 - eq0;
        const p1 = eq1 > p0 ? eq1 : p0;
        peak[i] = p1;
        const inc = p1 - eq1 - dd0;
        r = ((eq1 - eq0) - (inc > 0 ? this.lambda * inc : 0)) * scale;
      } else r = this.dsr(i, eq0 > 0 ? eq1 / eq0 - 1 : 0);
      rewards[i] = r;
      epRet[i] = epRet[i]! + r;
      const len = epLen[i]! + 1;
      epLen[i] = len;

      const isTerm = eq1 <= ruinLevel ? 1 : 0;
      const isTrunc = isTerm === 0 && t1 >= endBar[i]! ? 1 : 0;
      term[i] = isTerm;
      trunc[i] = isTrunc;
      const off = i * S;
      if (isTerm === 0 && isTrunc === 0) {
        // observation at t+1 (inline writeObs)
        const src = (t1 - W + 1) * F;
        // native copies for real windows (memory.copy, or a subarray view + memcpy; an element loop below ~24 floats)
        if (wasmCopy !== null) wasmCopy(obsByte + off * 4, src * 4, WF * 4);
        else if (WF >= 24) obs.set(feat.subarray(src, src + WF), off);
        else for (let k = 0; k < WF; k++) obs[off + k] = feat[src + k]!;
        obs[off + WF] = qn * posInv;
        obs[off + WF + 1] = unreal * unrealInv;
      } else {
        this.writeObs(i, this.finalObs, off);
        this.finalReturn[i] = epRet[i]!;
        this.finalEquityChange[i] = eq1 - cash;
        this.finalLength[i] = len;
        this.episodesDone++;
        this.resetEnv(i);
        this.writeObs(i, obs, off);
      }
    }
    return this.result;
  }

  private dsr(i: number, R: number): number {
    const A = this.dsrA[i]!;
    const B = this.dsrB[i]!;
    const dA = R - A;
    const dB = R * R - B;
    const v = B - A * A;
    let D = 0;
    if (v > 0) {
      D = (B * dA - 0.5 * A * dB) / (v * Math.sqrt(v));
      const c = this.dsrClip;
      D = D > c ? c : D < -c ? -c : D;
    }
    this.dsrA[i] = A + this.eta * dA;
    this.dsrB[i] = B + this.eta * dB;
    return D;
  }

  /** Cash of env i (the core Account's cash: initial + realized - commissions). */
  cashOf(i: number): number {
    return this.cash + (this.realS[i]! + this.realC[i]!) * this.dataset.tickValue - (this.commS[i]! + this.commC[i]!);
  }
  /** Commissions paid by env i in the current episode. */
  commissionsOf(i: number): number {
    return this.commS[i]! + this.commC[i]!;
  }
}
