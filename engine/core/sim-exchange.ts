/**
 * The simulated exchange: order management and the fill model shared by
 * backtests, RL environments and the paper broker. Pure: time comes from a
 * Clock, prices from the bars or ticks the driver hands in.
 *
 * Fill model on bars (README, "Fill model"): an order placed after bar t
 * closes is active from bar t+1. On each bar, in order:
 *  - DAY orders past their session end expire;
 *  - market orders fill at the open, plus slippage;
 *  - stops fill at the stop price when the bar's range reaches it, or at the
 *    open when the bar gaps through it (plus slippage);
 *  - limits fill at the limit when the range reaches it, or at the open when
 *    the bar opens better (no slippage);
 *  - stop-limits trigger like stops, then work as limits; triggered intrabar,
 *    they fill only if the stop price satisfies the limit, else from the next bar;
 *  - a bracket's exits work once its entry fills. When the stop-loss and the
 *    take-profit are both inside one bar, the stop fills (policy
 *    "stop_first", configurable). On the bar the entry fills intrabar, only
 *    the stop-loss can fill; a take-profit waits for the next bar;
 *  - IOC orders get their first active bar, then the rest is cancelled.
 * Fill prices snap to the tick against the trader, and slippage is capped at
 * the bar's range. On ticks, fills happen at tick prices (ask for buys and bid
 * for sells when the tick carries quotes).
 */
import { Account } from "./account";
import { type CommissionModel, commissionFor, type SlippageModel, slipped, TickGrid } from "./costs";
import { isWorking, transition } from "./order-state";
import type { ExecutionClient } from "./ports";
import type { BracketRequest, Clock, CoreInstrument, DenyReason, Fill, Order, OrderEvent, OrderRequest, Side } from "./types";

export type SameBarPolicy = "stop_first" | "target_first";

export interface SimExchangeOptions {
  instrument: CoreInstrument;
  cash: number;
  clock: Clock;
  commission?: CommissionModel;
  slippage?: SlippageModel;
  sameBarPolicy?: SameBarPolicy;
  /** Max fraction of a bar's volume one order may take (partial fills); 0 = unlimited. */
  maxParticipation?: number;
  /** End of the trading session containing ts (DAY orders expire there). Default: next 00:00 UTC. */
  sessionEnd?: (ts: number) => number;
}

export type OrderEventListener = (ev: OrderEvent) => void;

const DAY = 86_400_000;
const EMPTY: Order[] = [];

export class SimExchange implements ExecutionClient {
  readonly account: Account;
  readonly grid: TickGrid;
  readonly instrument: CoreInstrument;
  private readonly clock: Clock;
  private readonly commission: CommissionModel;
  private readonly slippage: SlippageModel;
  private readonly policy: SameBarPolicy;
  private readonly participation: number;
  private readonly sessionEnd: (ts: number) => number;

  private nextId = 1;
  /** Working orders and the most recent finished ones (bounded: a long backtest places millions). */
  private readonly orders = new Map<number, Order>();
  private readonly finished: number[] = [];
  private finishedHead = 0;
  static readonly KEEP_FINISHED = 256;
  private readonly byClientId = new Map<string, Order>();
  /** Working orders in submission order. */
  private working: Order[] = [];
  /** Index of the bar/tick being processed or just closed (decisions made now act from seq + 1). */
  seq = -1;
  /** Last known price, for margin checks at submission. */
  lastPrice = NaN;
  readonly fills: Fill[] = [];
  fillCount = 0;
  /** Keep every Fill object (reports); off for RL and sweeps. */
  recordFills = true;
  private listener: OrderEventListener | null = null;

  constructor(opts: SimExchangeOptions) {
    this.instrument = opts.instrument;
    this.account = new Account(opts.instrument, opts.cash);
    this.grid = this.account.grid;
    this.clock = opts.clock;
    this.commission = opts.commission ?? { kind: "none" };
    this.slippage = opts.slippage ?? { kind: "none" };
    this.policy = opts.sameBarPolicy ?? "stop_first";
    this.participation = opts.maxParticipation ?? 0;
    this.sessionEnd = opts.sessionEnd ?? ((ts) => Math.floor(ts / DAY) * DAY + DAY);
  }

  onEvent(listener: OrderEventListener | null): void {
    this.listener = listener;
  }

  get hasWorkingOrders(): boolean {
    return this.working.length > 0;
  }

  /** A bar with no working orders: only the bookkeeping processBar would do. */
  idleBar(seq: number, close: number): void {
    this.seq = seq;
    this.lastPrice = close;
  }

  private emit(ev: OrderEvent): void {
    this.listener!(ev);
  }

  // ------------------------------------------------------------------ orders

  private newOrder(req: OrderRequest): Order {
    return {
      id: this.nextId++,
      clientId: req.clientId,
      symbol: this.instrument.symbol,
      side: req.side,
      qty: req.qty,
      type: req.type,
      limitPrice: req.limitPrice ?? NaN,
      stopPrice: req.stopPrice ?? NaN,
      tif: req.tif ?? "GTC",
      reduceOnly: req.reduceOnly ?? false,
      tag: req.tag,
      status: "submitted",
      filledQty: 0,
      avgFillPrice: 0,
      createdTs: this.clock.now(),
      activeFrom: this.seq + 1,
      triggered: false,
      parentId: 0,
      ocoId: 0,
      dormant: false,
      denyReason: undefined,
      expiresAt: Infinity,
    };
  }

  private validate(o: Order): [DenyReason, string] | null {
    if (!Number.isFinite(o.qty) || o.qty <= 0) return ["INVALID_QUANTITY", `qty must be a positive number, got ${o.qty}`];
    if (o.side !== "buy" && o.side !== "sell") return ["INVALID_PRICE", `side must be buy or sell`];
    const needsLimit = o.type === "limit" || o.type === "stop_limit";
    const needsStop = o.type === "stop" || o.type === "stop_limit";
    if (needsLimit && Number.isNaN(o.limitPrice)) return ["MISSING_PRICE", `${o.type} order needs limitPrice`];
    if (needsStop && Number.isNaN(o.stopPrice)) return ["MISSING_PRICE", `${o.type} order needs stopPrice`];
    if (needsLimit && !(Number.isFinite(o.limitPrice) && o.limitPrice > 0)) return ["INVALID_PRICE", `limitPrice must be a positive number, got ${o.limitPrice}`];
    if (needsStop && !(Number.isFinite(o.stopPrice) && o.stopPrice > 0)) return ["INVALID_PRICE", `stopPrice must be a positive number, got ${o.stopPrice}`];
    if (o.type !== "market" && o.type !== "limit" && o.type !== "stop" && o.type !== "stop_limit") return ["INVALID_PRICE", `unknown order type ${String(o.type)}`];
    return null;
  }

  private deny(o: Order, reason: DenyReason, message: string): Order {
    o.denyReason = reason;
    transition(o, "denied");
    this.retire(o.id);
    if (this.listener) this.emit({ type: "Denied", ts: this.clock.now(), order: { ...o }, reason, message });
    return o;
  }

  /** Margin needed beyond what is held if `signed` more contracts were added to the position. */
  private marginShortfall(signed: number, price: number): boolean {
    const a = this.account;
    const newAbs = Math.abs(a.qty + signed);
    if (newAbs <= Math.abs(a.qty)) return false;
    const ref = Number.isFinite(price) ? price : this.lastPrice;
    if (!Number.isFinite(ref)) return false;
    return a.marginFor(newAbs, ref) > a.equity(Number.isFinite(this.lastPrice) ? this.lastPrice : ref) + 1e-9;
  }

  private accept(o: Order): void {
    transition(o, "accepted");
    if (o.tif === "DAY") o.expiresAt = this.sessionEnd(this.clock.now());
    if (this.listener) this.emit({ type: "Accepted", ts: this.clock.now(), order: { ...o } });
  }

  submit(req: OrderRequest): Order {
    if (req.clientId !== undefined) {
      const prior = this.byClientId.get(req.clientId);
      if (prior) return prior;
    }
    const o = this.newOrder(req);
    // snap prices to the grid: never worse for the trader than asked
    if (Number.isFinite(o.limitPrice) && o.limitPrice > 0) o.limitPrice = this.grid.favourable(o.limitPrice, o.side);
    if (Number.isFinite(o.stopPrice) && o.stopPrice > 0) o.stopPrice = this.grid.adverse(o.stopPrice, o.side);
    this.orders.set(o.id, o);
    if (o.clientId !== undefined) this.byClientId.set(o.clientId, o);
    if (this.listener) this.emit({ type: "Submitted", ts: this.clock.now(), order: { ...o } });
    const bad = this.validate(o);
    if (bad) return this.deny(o, bad[0], bad[1]);
    if (o.reduceOnly) {
      const pos = this.account.qty;
      if (pos === 0 || (pos > 0) === (o.side === "buy")) return this.deny(o, "REDUCE_ONLY", "reduce-only order would not reduce the position");
    } else {
      const ref = o.type === "limit" || o.type === "stop_limit" ? o.limitPrice : o.type === "stop" ? o.stopPrice : this.lastPrice;
      if (this.marginShortfall(o.side === "buy" ? o.qty : -o.qty, ref)) return this.deny(o, "INSUFFICIENT_MARGIN", `not enough equity for the initial margin of ${o.qty} more`);
    }
    this.accept(o);
    this.working.push(o);
    return o;
  }

  submitBracket(req: BracketRequest): { entry: Order; stopLoss: Order; takeProfit: Order } {
    const entry = this.submit({ ...req.entry, tag: req.entry.tag ?? req.tag });
    const exitSide: Side = req.entry.side === "buy" ? "sell" : "buy";
    const sl = this.newOrder({ side: exitSide, qty: req.entry.qty, type: "stop", stopPrice: req.stopLoss, tif: "GTC", reduceOnly: true, tag: req.tag ?? "stop-loss" });
    const tp = this.newOrder({ side: exitSide, qty: req.entry.qty, type: "limit", limitPrice: req.takeProfit, tif: "GTC", reduceOnly: true, tag: req.tag ?? "take-profit" });
    for (const x of [sl, tp]) {
      if (Number.isFinite(x.limitPrice) && x.limitPrice > 0) x.limitPrice = this.grid.favourable(x.limitPrice, x.side);
      if (Number.isFinite(x.stopPrice) && x.stopPrice > 0) x.stopPrice = this.grid.adverse(x.stopPrice, x.side);
      x.parentId = entry.id;
      x.dormant = true;
      this.orders.set(x.id, x);
      if (this.listener) this.emit({ type: "Submitted", ts: this.clock.now(), order: { ...x } });
    }
    sl.ocoId = tp.id;
    tp.ocoId = sl.id;
    const bad = this.validate(sl) ?? this.validate(tp) ?? this.bracketSides(req);
    if (entry.status === "denied" || bad) {
      if (bad && isWorking(entry)) this.cancelOrder(entry, "bracket exits invalid");
      const [reason, msg] = bad ?? ["INVALID_PRICE", "bracket entry denied"];
      this.deny(sl, reason, msg);
      this.deny(tp, reason, msg);
      return { entry, stopLoss: sl, takeProfit: tp };
    }
    this.accept(sl);
    this.accept(tp);
    this.working.push(sl, tp);
    return { entry, stopLoss: sl, takeProfit: tp };
  }

  private bracketSides(req: BracketRequest): [DenyReason, string] | null {
    const long = req.entry.side === "buy";
    const ref = req.entry.type === "market" ? this.lastPrice : (req.entry.limitPrice ?? req.entry.stopPrice ?? NaN);
    if (!Number.isFinite(ref)) return null;
    if (long ? !(req.stopLoss < ref && req.takeProfit > ref) : !(req.stopLoss > ref && req.takeProfit < ref)) {
      return ["INVALID_PRICE", `bracket ${long ? "long" : "short"}: stop-loss must be ${long ? "below" : "above"} and take-profit ${long ? "above" : "below"} the entry price ${ref}`];
    }
    return null;
  }

  cancel(orderId: number): boolean {
    const o = this.orders.get(orderId);
    if (!o || !isWorking(o)) return false;
    this.cancelOrder(o, "requested");
    return true;
  }

  cancelAll(): void {
    for (const o of [...this.working]) if (isWorking(o)) this.cancelOrder(o, "requested");
  }

  private cancelOrder(o: Order, reason: string): void {
    transition(o, "cancelled");
    this.removeWorking(o);
    if (this.listener) this.emit({ type: "Cancelled", ts: this.clock.now(), order: { ...o }, reason });
    // an entry that dies unfilled takes its dormant exits with it
    if (o.filledQty === 0) for (const x of this.childrenOf(o.id)) if (isWorking(x)) this.cancelOrder(x, "parent " + reason);
  }

  private childrenOf(id: number): Order[] {
    const out: Order[] = [];
    for (const w of this.working) if (w.parentId === id) out.push(w);
    return out;
  }

  private removeWorking(o: Order): void {
    const i = this.working.indexOf(o);
    if (i >= 0) this.working.splice(i, 1);
    this.retire(o.id);
  }

  /** Forget the oldest finished orders beyond KEEP_FINISHED. */
  private retire(id: number): void {
    const keep = SimExchange.KEEP_FINISHED;
    this.finished.push(id);
    if (this.finished.length - this.finishedHead > keep) {
      const old = this.finished[this.finishedHead++]!;
      const o = this.orders.get(old);
      if (o && !isWorking(o)) {
        this.orders.delete(old);
        if (o.clientId !== undefined && this.byClientId.get(o.clientId) === o) this.byClientId.delete(o.clientId);
      }
      if (this.finishedHead > keep) {
        this.finished.splice(0, this.finishedHead);
        this.finishedHead = 0;
      }
    }
  }

  openOrders(): readonly Order[] {
    return this.working.slice();
  }

  order(orderId: number): Order | undefined {
    return this.orders.get(orderId);
  }

  // ------------------------------------------------------------------ fills

  private doFill(o: Order, qty: number, price: number, slip: number, ts: number): void {
    const a = this.account;
    if (o.reduceOnly) {
      const pos = a.qty;
      const reducible = pos === 0 || (pos > 0) === (o.side === "buy") ? 0 : Math.abs(pos);
      if (reducible === 0) {
        this.cancelOrder(o, "nothing to reduce");
        return;
      }
      qty = Math.min(qty, reducible);
    } else if (this.marginShortfall(o.side === "buy" ? qty : -qty, price)) {
      this.cancelOrder(o, "INSUFFICIENT_MARGIN");
      return;
    }
    const commission = commissionFor(this.commission, qty, price, this.instrument.pointValue);
    const res = a.fill(o.side, qty, price, commission, ts, this.seq);
    const prevFilled = o.filledQty;
    o.filledQty = prevFilled + qty;
    o.avgFillPrice = (o.avgFillPrice * prevFilled + price * qty) / o.filledQty;
    this.fillCount++;
    // no Fill object when nobody reads it (RL and sweeps run millions of fills)
    const fill: Fill | null = this.recordFills || this.listener ? { orderId: o.id, ts, side: o.side, qty, price, commission, slippage: slip, realizedPnl: res, tag: o.tag } : null;
    if (this.recordFills) this.fills.push(fill!);
    const done = o.filledQty >= o.qty - 1e-12 || (o.reduceOnly && a.qty === 0);
    transition(o, done ? "filled" : "partially_filled");
    if (done) this.removeWorking(o);
    if (this.listener) this.emit({ type: done ? "Filled" : "PartiallyFilled", ts, order: { ...o }, fill: fill! });
    // bracket bookkeeping
    if (this.working.length) for (const x of this.childrenOf(o.id)) {
      x.dormant = false;
      x.qty = o.filledQty;
    }
    if (o.ocoId) {
      const sib = this.orders.get(o.ocoId);
      if (sib && isWorking(sib)) {
        if (done) this.cancelOrder(sib, "OCO");
        else sib.qty = Math.max(0, sib.qty - qty);
      }
    }
  }

  /** Fillable now under the participation cap. */
  private cap(o: Order, volume: number): number {
    const rest = o.qty - o.filledQty;
    if (this.participation <= 0) return rest;
    return Math.min(rest, Math.floor(volume * this.participation));
  }

  /**
   * Fill price of a working order on bar (o,h,l,c); NaN if it does not fill.
   * Sets `atOpenFlag` when the fill happens at the open.
   */
  private barPrice(ord: Order, o: number, h: number, l: number): number {
    const buy = ord.side === "buy";
    switch (ord.type) {
      case "market":
        this.atOpen = true;
        return o;
      case "stop": {
        const s = ord.stopPrice;
        if (buy ? o >= s : o <= s) return (this.atOpen = true), o;
        if (buy ? h >= s : l <= s) return (this.atOpen = false), s;
        return NaN;
      }
      case "limit":
        return this.limitPrice(ord, o, h, l);
      case "stop_limit": {
        if (!ord.triggered) {
          const s = ord.stopPrice;
          if (buy ? o >= s : o <= s) {
            ord.triggered = true;
            const lim = ord.limitPrice;
            if (buy ? o <= lim : o >= lim) return (this.atOpen = true), o;
            return NaN; // triggered at the open beyond the limit: rests as a limit from the next bar
          }
          if (buy ? h >= s : l <= s) {
            ord.triggered = true;
            const lim = ord.limitPrice;
            if (buy ? s <= lim : s >= lim) return (this.atOpen = false), s;
            return NaN;
          }
          return NaN;
        }
        return this.limitPrice(ord, o, h, l);
      }
    }
  }

  private atOpen = false;
  private readonly intrabar = new Set<number>();
  private readonly seen = new Set<number>();

  private hasChildren(id: number): boolean {
    for (const w of this.working) if (w.parentId === id) return true;
    return false;
  }

  private limitPrice(ord: Order, o: number, h: number, l: number): number {
    const lim = ord.limitPrice;
    if (ord.side === "buy") {
      if (o <= lim) return (this.atOpen = true), o;
      if (l <= lim) return (this.atOpen = false), lim;
    } else {
      if (o >= lim) return (this.atOpen = true), o;
      if (h >= lim) return (this.atOpen = false), lim;
    }
    return NaN;
  }

  private isExitStop(o: Order): boolean {
    return o.parentId !== 0 && o.type === "stop";
  }

  /**
   * Process bar `seq` (ts, o, h, l, c, v) for the working orders: expiries,
   * then fills. Call before the strategy sees the bar.
   */
  processBar(seq: number, ts: number, o: number, h: number, l: number, c: number, v: number): void {
    this.seq = seq;
    if (this.working.length === 0) {
      this.lastPrice = c;
      return;
    }
    // fast path: one plain market order (the common case for bar strategies)
    if (this.working.length === 1) {
      const only = this.working[0]!;
      if (only.type === "market" && only.activeFrom <= seq && !only.dormant && only.ocoId === 0 && only.tif !== "DAY" && !this.hasChildren(only.id)) {
        this.atOpen = true;
        this.fillOnBar(only, o, true, ts, h, l, v, this.intrabar, EMPTY);
        if (only.tif === "IOC" && isWorking(only)) this.cancelOrder(only, "IOC");
        this.lastPrice = c;
        return;
      }
    }
    const list = this.working.slice();
    // expiries first
    for (const ord of list) {
      if (ord.tif === "DAY" && ts >= ord.expiresAt && isWorking(ord)) {
        transition(ord, "expired");
        this.removeWorking(ord);
        if (this.listener) this.emit({ type: "Expired", ts, order: { ...ord } });
      }
    }
    // market orders first, then the rest in submission order; exits activated by an entry's fill are
    // appended so they are seen on this same bar
    const queue = this.working.filter((x) => x.type === "market").concat(this.working.filter((x) => x.type !== "market"));
    const entryFilledIntrabar = this.intrabar;
    const seen = this.seen;
    entryFilledIntrabar.clear();
    seen.clear();
    for (let qi = 0; qi < queue.length; qi++) {
      const ord = queue[qi]!;
      if (seen.has(ord.id)) continue;
      if (!isWorking(ord) || ord.dormant || ord.activeFrom > seq) continue;
      if (ord.parentId && entryFilledIntrabar.has(ord.parentId) && !this.isExitStop(ord)) continue;
      seen.add(ord.id);
      const price = this.barPrice(ord, o, h, l);
      // OCO: both exits inside this bar -> policy decides
      if (!Number.isNaN(price) && ord.ocoId) {
        const sib = this.orders.get(ord.ocoId)!;
        if (isWorking(sib) && !sib.dormant && sib.activeFrom <= seq && !(entryFilledIntrabar.has(sib.parentId) && !this.isExitStop(sib))) {
          const atOpen = this.atOpen;
          const sibPrice = this.barPrice(sib, o, h, l);
          const sibAtOpen = this.atOpen;
          if (!Number.isNaN(sibPrice)) {
            // the one at the open happened first; otherwise the policy
            const preferSib = sibAtOpen && !atOpen ? true : atOpen && !sibAtOpen ? false : this.policy === "stop_first" ? sib.type === "stop" : sib.type !== "stop";
            if (preferSib) {
              seen.add(sib.id);
              this.fillOnBar(sib, sibPrice, sibAtOpen, ts, h, l, v, entryFilledIntrabar, queue);
              continue;
            }
          }
          this.atOpen = atOpen;
        }
      }
      if (!Number.isNaN(price)) this.fillOnBar(ord, price, this.atOpen, ts, h, l, v, entryFilledIntrabar, queue);
      if (ord.tif === "IOC" && isWorking(ord)) this.cancelOrder(ord, "IOC");
    }
    this.lastPrice = c;
  }

  private fillOnBar(ord: Order, base: number, atOpen: boolean, ts: number, h: number, l: number, v: number, intrabar: Set<number>, queue: Order[]): void {
    const takesSlippage = ord.type === "market" || ord.type === "stop";
    let price = takesSlippage ? slipped(this.slippage, this.grid, base, ord.side) : this.grid.adverse(base, ord.side);
    if (takesSlippage) {
      // slippage never fills outside the bar's range
      if (ord.side === "buy" && price > h && base <= h) price = this.grid.tick > 0 ? this.grid.adverse(h, "sell") : h;
      if (ord.side === "sell" && price < l && base >= l) price = this.grid.tick > 0 ? this.grid.adverse(l, "buy") : l;
    }
    const qty = this.cap(ord, v);
    if (qty <= 0) return;
    const children = this.working.length > 1 ? this.childrenOf(ord.id) : EMPTY;
    this.doFill(ord, qty, price, Math.abs(price - base), ts);
    if (children.length) {
      if (!atOpen) intrabar.add(ord.id);
      for (const x of children) {
        x.activeFrom = Math.min(x.activeFrom, this.seq);
        if (!queue.includes(x)) queue.push(x);
      }
    }
  }

  /**
   * Process one tick (index seq): fills at the tick's price; buys at the ask
   * and sells at the bid when the tick carries quotes.
   */
  processTick(seq: number, ts: number, price: number, size: number, bid?: number, ask?: number): void {
    this.seq = seq;
    this.lastPrice = price;
    if (this.working.length === 0) return;
    for (const ord of this.working.slice()) {
      if (ord.tif === "DAY" && ts >= ord.expiresAt && isWorking(ord)) {
        transition(ord, "expired");
        this.removeWorking(ord);
        if (this.listener) this.emit({ type: "Expired", ts, order: { ...ord } });
      }
    }
    for (const ord of this.working.slice()) {
      if (!isWorking(ord) || ord.dormant || ord.activeFrom > seq) continue;
      const buy = ord.side === "buy";
      const px = buy ? (ask ?? price) : (bid ?? price);
      let fill = NaN;
      switch (ord.type) {
        case "market":
          fill = px;
          break;
        case "stop":
          if (buy ? px >= ord.stopPrice : px <= ord.stopPrice) fill = px;
          break;
        case "limit":
          if (buy ? px <= ord.limitPrice : px >= ord.limitPrice) fill = px;
          break;
        case "stop_limit":
          if (!ord.triggered && (buy ? px >= ord.stopPrice : px <= ord.stopPrice)) ord.triggered = true;
          if (ord.triggered && (buy ? px <= ord.limitPrice : px >= ord.limitPrice)) fill = px;
          break;
      }
      if (!Number.isNaN(fill)) {
        const slips = ord.type === "market" || ord.type === "stop";
        const p = slips ? slipped(this.slippage, this.grid, fill, ord.side) : this.grid.adverse(fill, ord.side);
        const qty = this.cap(ord, size);
        if (qty > 0) this.doFill(ord, qty, p, Math.abs(p - fill), ts);
      }
      if (ord.tif === "IOC" && isWorking(ord)) this.cancelOrder(ord, "IOC");
    }
  }
}
