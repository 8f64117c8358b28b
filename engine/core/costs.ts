/**
 * Tick grid, commission and slippage models. Pure.
 */
import type { Side } from "./types";

export type CommissionModel =
  | { kind: "none" }
  /** Currency per contract per side. */
  | { kind: "per_contract"; amount: number }
  /** Percent of notional (qty x price x point value), e.g. 0.1 = 0.1 %. */
  | { kind: "percent"; percent: number }
  /** Flat currency per fill, whatever its size. */
  | { kind: "per_fill"; amount: number };

export type SlippageModel =
  | { kind: "none" }
  /** Adverse move of N ticks on market and stop fills. */
  | { kind: "ticks"; ticks: number }
  /** Adverse move of a percent of price on market and stop fills. */
  | { kind: "percent"; percent: number };

export function commissionFor(model: CommissionModel, qty: number, price: number, pointValue: number): number {
  switch (model.kind) {
    case "none":
      return 0;
    case "per_contract":
      return model.amount * qty;
    case "percent":
      return (model.percent / 100) * qty * price * pointValue;
    case "per_fill":
      return model.amount;
  }
}

export function validateCommission(m: CommissionModel): string | null {
  if (m.kind === "per_contract" || m.kind === "per_fill") {
    if (!Number.isFinite(m.amount) || m.amount < 0) return `commission amount must be a number >= 0, got ${m.amount}`;
  } else if (m.kind === "percent") {
    if (!Number.isFinite(m.percent) || m.percent < 0 || m.percent >= 100) return `commission percent must be in [0, 100), got ${m.percent}`;
  }
  return null;
}

export function validateSlippage(m: SlippageModel): string | null {
  if (m.kind === "ticks" && (!Number.isFinite(m.ticks) || m.ticks < 0)) return `slippage ticks must be >= 0, got ${m.ticks}`;
  if (m.kind === "percent" && (!Number.isFinite(m.percent) || m.percent < 0 || m.percent >= 100)) return `slippage percent must be in [0, 100), got ${m.percent}`;
  return null;
}

/**
 * The tick grid of an instrument. Prices are whole multiples of the tick; a
 * price built from N ticks is the double nearest to N x tick written in decimal
 * (N / (1/tick) when 1/tick is a whole number, which is exact and fast).
 */
export class TickGrid {
  readonly tick: number;
  private readonly inv: number;
  private readonly decimals: number;

  constructor(tick: number) {
    if (!(tick >= 0) || !Number.isFinite(tick)) throw new RangeError(`tick size must be a finite number >= 0, got ${tick}`);
    this.tick = tick;
    const inv = tick > 0 ? 1 / tick : 0;
    this.inv = tick > 0 && Math.abs(inv - Math.round(inv)) < 1e-9 * inv ? Math.round(inv) : 0;
    this.decimals = tick > 0 ? decimalsOf(tick) : 0;
  }

  /** Price of a whole number of ticks. */
  price(ticks: number): number {
    if (this.tick === 0) return ticks;
    if (this.inv > 0) return ticks / this.inv;
    return Number((ticks * this.tick).toFixed(this.decimals));
  }

  /** Nearest whole number of ticks (price itself when there is no grid). */
  ticks(price: number): number {
    if (this.tick === 0) return price;
    return this.inv > 0 ? Math.round(price * this.inv) : Math.round(price / this.tick);
  }

  /** Nearest grid price. */
  round(price: number): number {
    return this.tick === 0 ? price : this.price(this.ticks(price));
  }

  /** Snap against the trader: buys round up, sells round down. */
  adverse(price: number, side: Side): number {
    if (this.tick === 0) return price;
    const exact = this.inv > 0 ? price * this.inv : price / this.tick;
    const r = Math.round(exact);
    // within float noise of a grid point: that point
    if (Math.abs(exact - r) < 1e-7) return this.price(r);
    return this.price(side === "buy" ? Math.ceil(exact) : Math.floor(exact));
  }

  /** Snap in the trader's favour (limit prices: never pay more / receive less than asked). */
  favourable(price: number, side: Side): number {
    return this.adverse(price, side === "buy" ? "sell" : "buy");
  }

  onGrid(price: number): boolean {
    if (this.tick === 0) return true;
    const exact = this.inv > 0 ? price * this.inv : price / this.tick;
    return Math.abs(exact - Math.round(exact)) < 1e-7;
  }
}

function decimalsOf(x: number): number {
  for (let d = 0; d <= 12; d++) {
    if (Math.abs(Number(x.toFixed(d)) - x) <= 1e-15 * Math.max(1, Math.abs(x))) return d;
  }
  return 12;
}

/** Price after slippage against the order's side, on the grid. */
export function slipped(model: SlippageModel, grid: TickGrid, price: number, side: Side): number {
  const sign = side === "buy" ? 1 : -1;
  switch (model.kind) {
    case "none":
      return grid.adverse(price, side);
    case "ticks":
      return grid.tick === 0 ? price : grid.price(grid.ticks(grid.adverse(price, side)) + sign * model.ticks);
    case "percent":
      return grid.adverse(price * (1 + (sign * model.percent) / 100), side);
  }
}
