/**
 * Account for one instrument: cash, position with FIFO lots, realized and
 * unrealized P&L in account currency, commissions, margin, closed trades. Pure.
 *
 * P&L does not drift. Prices are kept as whole ticks; a lot closed at exit
 * tick X after entry tick E realizes (X - E) x qty ticks, an exact integer for
 * whole-contract quantities, summed exactly and turned into currency with the
 * tick value (tick x point value) only when read. Instruments without a tick
 * grid (tick 0) keep raw prices and sum with Neumaier compensation.
 *
 * Cash is futures-style: initial cash + realized P&L - commissions. Equity is
 * cash + unrealized P&L at the mark. For a fully paid spot holding this equals
 * cash-after-purchase + holding value, so one formula serves every kind.
 */
import { TickGrid } from "./costs";
import type { CoreInstrument, Side, Trade } from "./types";

export class NeumaierSum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    if (Math.abs(this.s) >= Math.abs(x)) this.c += this.s - t + x;
    else this.c += x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return this.s + this.c;
  }
  reset(): void {
    this.s = 0;
    this.c = 0;
  }
}

export interface FillResult {
  /** Realized P&L of this fill in currency, before commission. */
  realized: number;
  /** Trades closed by this fill (0, or 1; a flip closes one and opens another). */
  closed: Trade | null;
}

export class Account {
  readonly instrument: CoreInstrument;
  readonly grid: TickGrid;
  readonly initialCash: number;
  /** Currency value of one tick of one contract (pointValue when there is no grid). */
  readonly tickValue: number;

  /** Signed position in contracts. */
  qty = 0;
  // FIFO lots: signed qty and entry price in ticks (raw price when no grid)
  private lotQty: number[] = [];
  private lotTicks: number[] = [];
  private lotHead = 0;
  /** Sum over open lots of qty x entry ticks (signed). */
  private costTicks = 0;

  private realizedTicks = new NeumaierSum();
  private commissionSum = new NeumaierSum();

  // current round trip
  private tradeOpenTs = 0;
  private tradeOpenBar = 0;
  private tradeQty = 0;
  private tradeEntryNotional = 0;
  private tradeExitQty = 0;
  private tradeExitNotional = 0;
  private tradeRealized = 0;
  private tradeCommission = 0;
  readonly trades: Trade[] = [];

  constructor(instrument: CoreInstrument, initialCash: number) {
    if (!Number.isFinite(initialCash) || initialCash <= 0) throw new RangeError(`cash must be a positive number, got ${initialCash}`);
    if (!(instrument.pointValue > 0)) throw new RangeError(`point value of ${instrument.symbol} must be > 0`);
    this.instrument = instrument;
    this.grid = new TickGrid(instrument.tickSize);
    this.initialCash = initialCash;
    this.cashNow = initialCash;
    this.tickValue = instrument.tickSize > 0 ? Number((instrument.tickSize * instrument.pointValue).toPrecision(15)) : instrument.pointValue;
  }

  get realizedPnl(): number {
    return this.realizedTicks.value * this.tickValue;
  }
  get commissions(): number {
    return this.commissionSum.value;
  }
  /** Cached: initial cash + realized P&L - commissions, refreshed on every fill. */
  get cash(): number {
    return this.cashNow;
  }
  private cashNow: number;
  /** Average entry price of the open position (0 when flat). */
  get avgPrice(): number {
    if (this.qty === 0) return 0;
    const t = this.costTicks / this.qty;
    return this.instrument.tickSize > 0 ? t * this.instrument.tickSize : t;
  }
  unrealized(mark: number): number {
    if (this.qty === 0) return 0;
    const markTicks = this.instrument.tickSize > 0 ? mark / this.instrument.tickSize : mark;
    return (this.qty * markTicks - this.costTicks) * this.tickValue;
  }
  equity(mark: number): number {
    return this.cash + this.unrealized(mark);
  }
  /** Initial margin held for |qty| contracts at a price. */
  marginFor(qty: number, price: number): number {
    const i = this.instrument;
    if (i.marginPerContract !== undefined) return Math.abs(qty) * i.marginPerContract;
    if (i.marginRate !== undefined) return Math.abs(qty) * price * i.pointValue * i.marginRate;
    return 0;
  }

  /** The round trip closed by the last fill, if it closed one. */
  lastClosed: Trade | null = null;

  /**
   * Apply a fill; returns its realized P&L (before commission). `bar` is the
   * index of the bar (or tick) it happened on, for trade durations.
   */
  fill(side: Side, qty: number, price: number, commission: number, ts: number, bar: number): number {
    const signed = side === "buy" ? qty : -qty;
    const ticks = this.instrument.tickSize > 0 ? this.grid.ticks(price) : price;
    this.commissionSum.add(commission);
    let realized = 0;
    let remaining = signed;
    let closed: Trade | null = null;
    const before = this.qty;

    // close against opposite lots, FIFO
    if (before !== 0 && Math.sign(before) !== Math.sign(signed)) {
      let toClose = Math.min(Math.abs(signed), Math.abs(before));
      const closeQty = toClose;
      let realizedTicks = 0;
      while (toClose > 0) {
        const lq = this.lotQty[this.lotHead]!;
        const lt = this.lotTicks[this.lotHead]!;
        const take = Math.min(Math.abs(lq), toClose);
        const dir = lq > 0 ? 1 : -1;
        realizedTicks += (ticks - lt) * take * dir;
        this.costTicks -= dir * take * lt;
        toClose -= take;
        if (take === Math.abs(lq)) {
          this.lotHead++;
        } else {
          this.lotQty[this.lotHead] = lq - dir * take;
        }
      }
      this.realizedTicks.add(realizedTicks);
      realized = realizedTicks * this.tickValue;
      this.qty += Math.sign(signed) * closeQty;
      remaining = signed - Math.sign(signed) * closeQty;
      if (this.lotHead > 64 && this.lotHead * 2 > this.lotQty.length) {
        this.lotQty = this.lotQty.slice(this.lotHead);
        this.lotTicks = this.lotTicks.slice(this.lotHead);
        this.lotHead = 0;
      }
      // commission share of the closing part
      const share = remaining === 0 ? commission : (commission * closeQty) / qty;
      this.tradeExitQty += closeQty;
      this.tradeExitNotional += closeQty * price;
      this.tradeRealized += realized;
      this.tradeCommission += share;
      if (this.qty === 0) {
        closed = {
          side: before > 0 ? "long" : "short",
          qty: this.tradeQty,
          entryTs: this.tradeOpenTs,
          exitTs: ts,
          entryPrice: this.tradeEntryNotional / this.tradeQty,
          exitPrice: this.tradeExitNotional / this.tradeExitQty,
          pnl: this.tradeRealized - this.tradeCommission,
          commission: this.tradeCommission,
          bars: bar - this.tradeOpenBar,
        };
        this.trades.push(closed);
        this.lotQty.length = 0;
        this.lotTicks.length = 0;
        this.lotHead = 0;
        this.costTicks = 0;
      }
      commission -= share;
    }

    if (remaining !== 0) {
      if (this.qty === 0) {
        this.tradeOpenTs = ts;
        this.tradeOpenBar = bar;
        this.tradeQty = 0;
        this.tradeEntryNotional = 0;
        this.tradeExitQty = 0;
        this.tradeExitNotional = 0;
        this.tradeRealized = 0;
        this.tradeCommission = 0;
      }
      this.lotQty.push(remaining);
      this.lotTicks.push(ticks);
      this.costTicks += remaining * ticks;
      this.qty += remaining;
      this.tradeQty += Math.abs(remaining);
      this.tradeEntryNotional += Math.abs(remaining) * price;
      this.tradeCommission += commission;
    }
    this.cashNow = this.initialCash + this.realizedTicks.value * this.tickValue - this.commissionSum.value;
    this.lastClosed = closed;
    return realized;
  }
}
