/**
 * The backtest event loop over columnar bars (or ticks). Pure: no I/O.
 *
 * Per bar i: the simulated exchange fills working orders against bar i
 * (orders placed at bar i-1's close or earlier), the clock moves to bar i's
 * close, the engine updates the strategy's indicators with bar i, the
 * strategy's onBar runs, and equity is marked at bar i's close. A decision at
 * bar i therefore fills on bar i+1 at the earliest: no look-ahead.
 */
import type { BarColumns } from "../data/types";
import { IndicatorRegistry, type IndicatorSource } from "./indicator-registry";
import type { IndicatorSpec } from "./indicators";
import type { AccountView, ExecutionClient, MarketDataClient, PositionView, Strategy, StrategyContext, Tick } from "./ports";
import { type SameBarPolicy, SimExchange } from "./sim-exchange";
import type { CommissionModel, SlippageModel } from "./costs";
import { type CoreInstrument, type Fill, ManualClock, type OrderEvent, type Trade } from "./types";

export interface BacktestOptions {
  instrument: CoreInstrument;
  strategy: Strategy;
  cash: number;
  /** Nominal bar size in ms; the clock reads ts + barMs at a bar's close. */
  barMs: number;
  commission?: CommissionModel;
  slippage?: SlippageModel;
  sameBarPolicy?: SameBarPolicy;
  maxParticipation?: number;
  sessionEnd?: (ts: number) => number;
  timeZone?: string;
  /** Bar index range [from, to); default the whole series. */
  from?: number;
  to?: number;
  /** Keep every fill (default true). */
  recordFills?: boolean;
  /** Called every `progressEvery` bars. Return false to abort. */
  onProgress?: (done: number, total: number) => boolean | void;
  progressEvery?: number;
  onEvent?: (ev: OrderEvent) => void;
  log?: (message: string) => void;
}

export interface BacktestResult {
  strategy: string;
  bars: number;
  startTs: number;
  endTs: number;
  ts: Float64Array;
  equity: Float64Array;
  /** 1 when a position was open at the bar's close. */
  exposure: Uint8Array;
  fills: Fill[];
  fillCount: number;
  trades: Trade[];
  initialCash: number;
  finalValue: number;
  finalPosition: number;
  commissions: number;
  aborted: boolean;
}

export class StrategyError extends Error {
  constructor(
    readonly strategy: string,
    readonly hook: string,
    readonly ts: number,
    override readonly cause: unknown,
  ) {
    super(`strategy ${strategy} failed in ${hook} at ${Number.isFinite(ts) ? new Date(ts).toISOString() : "start"}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "StrategyError";
  }
}

class BarData implements MarketDataClient {
  i = -1;
  constructor(
    readonly instrument: CoreInstrument,
    private readonly b: BarColumns,
    private readonly from: number,
    private readonly registry: IndicatorRegistry,
  ) {}
  get count(): number {
    return this.i - this.from + 1;
  }
  private at(ago: number): number {
    const k = this.i - ago;
    if (!(ago >= 0) || k < this.from) return -1;
    return k;
  }
  time(ago = 0): number {
    const k = this.at(ago);
    return k < 0 ? NaN : this.b.ts[k]!;
  }
  open(ago = 0): number {
    const k = this.at(ago);
    return k < 0 ? NaN : this.b.open[k]!;
  }
  high(ago = 0): number {
    const k = this.at(ago);
    return k < 0 ? NaN : this.b.high[k]!;
  }
  low(ago = 0): number {
    const k = this.at(ago);
    return k < 0 ? NaN : this.b.low[k]!;
  }
  close(ago = 0): number {
    const k = this.at(ago);
    return k < 0 ? NaN : this.b.close[k]!;
  }
  volume(ago = 0): number {
    const k = this.at(ago);
    return k < 0 ? NaN : this.b.volume[k]!;
  }
  indicator(spec: IndicatorSpec, source?: IndicatorSource) {
    return this.registry.add(spec, source);
  }
}

class Views implements PositionView, AccountView {
  mark = NaN;
  constructor(private readonly ex: SimExchange) {}
  get qty(): number {
    return this.ex.account.qty;
  }
  get avgPrice(): number {
    return this.ex.account.avgPrice;
  }
  get unrealizedPnl(): number {
    return Number.isFinite(this.mark) ? this.ex.account.unrealized(this.mark) : 0;
  }
  get realizedPnl(): number {
    return this.ex.account.realizedPnl;
  }
  get cash(): number {
    return this.ex.account.cash;
  }
  get equity(): number {
    return this.ex.account.cash + this.unrealizedPnl;
  }
  get marginUsed(): number {
    return Number.isFinite(this.mark) ? this.ex.account.marginFor(this.ex.account.qty, this.mark) : 0;
  }
  get commissions(): number {
    return this.ex.account.commissions;
  }
}

export interface BacktestHarness {
  exchange: SimExchange;
  ctx: StrategyContext;
  clock: ManualClock;
  registry: IndicatorRegistry;
}

function makeHarness(opts: BacktestOptions, bars: BarColumns | null, from: number): BacktestHarness & { data: BarData | null; views: Views } {
  const clock = new ManualClock(bars && bars.length > from ? bars.ts[from]! : 0);
  const exchange = new SimExchange({
    instrument: opts.instrument,
    cash: opts.cash,
    clock,
    commission: opts.commission,
    slippage: opts.slippage,
    sameBarPolicy: opts.sameBarPolicy,
    maxParticipation: opts.maxParticipation,
    sessionEnd: opts.sessionEnd,
  });
  exchange.recordFills = opts.recordFills ?? true;
  const registry = new IndicatorRegistry();
  const data = bars ? new BarData(opts.instrument, bars, from, registry) : null;
  const views = new Views(exchange);
  const log = opts.log ?? (() => {});
  const ctx: StrategyContext = {
    clock,
    exec: exchange as ExecutionClient,
    data: data ?? tickDataClient(opts.instrument, registry),
    position: views,
    account: views,
    timeZone: opts.timeZone ?? "UTC",
    log,
  };
  return { exchange, ctx, clock, registry, data, views };
}

function tickDataClient(instrument: CoreInstrument, registry: IndicatorRegistry): MarketDataClient {
  const nan = () => NaN;
  return { instrument, count: 0, time: nan, open: nan, high: nan, low: nan, close: nan, volume: nan, indicator: (s, src) => registry.add(s, src) };
}

/**
 * A backtest that can run in slices (so a service can yield to its event loop
 * and stream progress between them). runBacktest() runs one to the end.
 */
export class BacktestSession {
  private readonly h: ReturnType<typeof makeHarness>;
  private readonly bars: BarColumns;
  private readonly opts: BacktestOptions;
  readonly from: number;
  readonly to: number;
  readonly total: number;
  private i: number;
  private readonly equity: Float64Array;
  private readonly exposure: Uint8Array;
  private hook = "onStart";
  private curTs = NaN;
  private aborted = false;
  private started = false;
  private stopped = false;

  constructor(bars: BarColumns, opts: BacktestOptions) {
    this.bars = bars;
    this.opts = opts;
    this.from = Math.max(0, opts.from ?? 0);
    this.to = Math.max(this.from, Math.min(bars.length, opts.to ?? bars.length));
    this.total = this.to - this.from;
    this.i = this.from;
    this.equity = new Float64Array(this.total);
    this.exposure = new Uint8Array(this.total);
    this.h = makeHarness(opts, bars, this.from);
    const { exchange, ctx } = this.h;
    const strategy = opts.strategy;
    const userListener = opts.onEvent;
    const onOrderEvent = strategy.onOrderEvent?.bind(strategy);
    if (onOrderEvent || userListener) {
      exchange.onEvent((ev) => {
        userListener?.(ev);
        if (onOrderEvent) {
          const prev = this.hook;
          this.hook = "onOrderEvent";
          onOrderEvent(ctx, ev);
          this.hook = prev;
        }
      });
    }
  }

  get done(): number {
    return this.i - this.from;
  }
  get finished(): boolean {
    return this.stopped;
  }

  private fail(e: unknown): never {
    if (e instanceof StrategyError) throw e;
    throw new StrategyError(this.opts.strategy.name, this.hook, this.curTs, e);
  }

  /** Run up to `maxBars` more bars; true when the run has ended (all bars, or aborted). */
  step(maxBars = Infinity): boolean {
    if (this.stopped) return true;
    const { exchange, ctx, clock, registry, data, views } = this.h;
    const strategy = this.opts.strategy;
    try {
      if (!this.started) {
        this.started = true;
        strategy.onStart?.(ctx);
        this.hook = "onBar";
      }
      const { ts, open, high, low, close, volume } = this.bars;
      const equity = this.equity;
      const exposure = this.exposure;
      const barMs = this.opts.barMs;
      const from = this.from;
      const end = Math.min(this.to, this.i + Math.max(0, Math.floor(Math.min(maxBars, 2 ** 52))));
      const withIndicators = registry.size > 0;
      const closeOnly = withIndicators && registry.closeOnly;
      const acc = exchange.account;
      const onBar = strategy.onBar ? strategy.onBar.bind(strategy) : null;
      const every = this.opts.progressEvery ?? 65_536;
      const onProgress = this.opts.onProgress;
      let i = this.i;
      for (; i < end; i++) {
        const t = ts[i]!;
        const c = close[i]!;
        this.curTs = t;
        if (exchange.hasWorkingOrders) {
          clock.set(t);
          exchange.processBar(i, t, open[i]!, high[i]!, low[i]!, c, volume[i]!);
        } else exchange.idleBar(i, c);
        clock.set(t + barMs);
        if (closeOnly) registry.updateClose(c);
        else if (withIndicators) registry.update(open[i]!, high[i]!, low[i]!, c, volume[i]!);
        data!.i = i;
        views.mark = c;
        if (onBar !== null) onBar(ctx);
        const k = i - from;
        const q = acc.qty;
        if (q === 0) {
          equity[k] = acc.cash;
          exposure[k] = 0;
        } else {
          equity[k] = acc.equity(c);
          exposure[k] = 1;
        }
        if (onProgress !== undefined && (k + 1) % every === 0 && onProgress(k + 1, this.total) === false) {
          this.aborted = true;
          i++;
          break;
        }
      }
      this.i = i;
      if (this.aborted || this.i >= this.to) {
        this.hook = "onStop";
        strategy.onStop?.(ctx);
        this.stopped = true;
      }
    } catch (e) {
      this.stopped = true;
      this.fail(e);
    }
    return this.stopped;
  }

  /** Stop early (the result covers the bars run so far). */
  abort(): void {
    if (this.stopped) return;
    this.aborted = true;
    try {
      this.hook = "onStop";
      this.opts.strategy.onStop?.(this.h.ctx);
    } catch (e) {
      this.stopped = true;
      this.fail(e);
    }
    this.stopped = true;
  }

  result(): BacktestResult {
    const done = this.i - this.from;
    const { exchange } = this.h;
    const ts = this.bars.ts;
    if (!this.aborted) this.opts.onProgress?.(done, this.total);
    return {
      strategy: this.opts.strategy.name,
      bars: done,
      startTs: done > 0 ? ts[this.from]! : NaN,
      endTs: done > 0 ? ts[this.from + done - 1]! : NaN,
      ts: ts.subarray(this.from, this.from + done),
      equity: this.equity.subarray(0, done),
      exposure: this.exposure.subarray(0, done),
      fills: exchange.fills,
      fillCount: exchange.fillCount,
      trades: exchange.account.trades,
      initialCash: this.opts.cash,
      finalValue: done > 0 ? this.equity[done - 1]! : this.opts.cash,
      finalPosition: exchange.account.qty,
      commissions: exchange.account.commissions,
      aborted: this.aborted,
    };
  }
}

/** Run a strategy over bars [from, to). */
export function runBacktest(bars: BarColumns, opts: BacktestOptions): BacktestResult {
  const s = new BacktestSession(bars, opts);
  s.step();
  return s.result();
}

/** The same, yielding to the event loop every `sliceBars` bars (for services that stream progress). */
export async function runBacktestAsync(bars: BarColumns, opts: BacktestOptions, sliceBars = 262_144): Promise<BacktestResult> {
  const s = new BacktestSession(bars, opts);
  while (!s.step(sliceBars)) await new Promise<void>((r) => setImmediate(r));
  return s.result();
}

/** Run a strategy over ticks: fills at tick prices; onTick per tick. */
export function runTickBacktest(ticks: ReadonlyArray<Tick>, opts: BacktestOptions): Omit<BacktestResult, "ts" | "equity" | "exposure"> & { equity: Float64Array } {
  const { exchange, ctx, clock, views } = makeHarness(opts, null, 0);
  const strategy = opts.strategy;
  const onOrderEvent = strategy.onOrderEvent?.bind(strategy);
  exchange.onEvent((ev) => {
    opts.onEvent?.(ev);
    onOrderEvent?.(ctx, ev);
  });
  const equity = new Float64Array(ticks.length);
  let hook = "onStart";
  let curTs = NaN;
  try {
    strategy.onStart?.(ctx);
    hook = "onTick";
    for (let i = 0; i < ticks.length; i++) {
      const t = ticks[i]!;
      curTs = t.ts;
      clock.set(t.ts);
      exchange.processTick(i, t.ts, t.price, t.size, t.bid, t.ask);
      views.mark = t.bid !== undefined && t.ask !== undefined ? (t.bid + t.ask) / 2 : t.price;
      strategy.onTick?.(ctx, t);
      equity[i] = exchange.account.equity(views.mark);
    }
    hook = "onStop";
    strategy.onStop?.(ctx);
  } catch (e) {
    throw new StrategyError(strategy.name, hook, curTs, e);
  }
  return {
    strategy: strategy.name,
    bars: ticks.length,
    startTs: ticks[0]?.ts ?? NaN,
    endTs: ticks[ticks.length - 1]?.ts ?? NaN,
    equity,
    fills: exchange.fills,
    fillCount: exchange.fillCount,
    trades: exchange.account.trades,
    initialCash: opts.cash,
    finalValue: ticks.length ? equity[ticks.length - 1]! : opts.cash,
    finalPosition: exchange.account.qty,
    commissions: exchange.account.commissions,
    aborted: false,
  };
}
