/**
 * Trading-core domain types shared by backtests, paper and live trading.
 * Pure: no I/O, no framework imports. Times are UTC epoch ms read from a Clock.
 */

export type Side = "buy" | "sell";
export type OrderType = "market" | "limit" | "stop" | "stop_limit";
export type TimeInForce = "DAY" | "GTC" | "IOC";
export type OrderStatus = "submitted" | "accepted" | "partially_filled" | "filled" | "cancelled" | "expired" | "denied";

/** Why an order was refused. Stable codes: UIs and audits key on them. */
export type DenyReason =
  | "INVALID_QUANTITY"
  | "INVALID_PRICE"
  | "MISSING_PRICE"
  | "INSUFFICIENT_MARGIN"
  | "REDUCE_ONLY"
  | "DUPLICATE_CLIENT_ID"
  | "NO_MARKET_DATA"
  | "ENGINE_STOPPED"
  | "RISK_LIMIT";

/** The instrument facts the core needs. (Market data's Instrument satisfies it.) */
export interface CoreInstrument {
  symbol: string;
  /** Minimum price increment; 0 = no tick grid (prices used as given). */
  tickSize: number;
  /** Account currency per 1.0 of price per contract. */
  pointValue: number;
  currency: string;
  /** Initial margin per contract in account currency; 0 = none checked. */
  marginPerContract?: number;
  /** Fraction of notional required as margin (spot: 1 = fully paid); used when marginPerContract is absent. */
  marginRate?: number;
}

export interface OrderRequest {
  side: Side;
  qty: number;
  type: OrderType;
  limitPrice?: number;
  stopPrice?: number;
  tif?: TimeInForce;
  /** Caller's idempotency key: a second submit with the same key returns the first order. */
  clientId?: string;
  /** Only reduces an open position (exits). */
  reduceOnly?: boolean;
  tag?: string;
}

/** Entry plus stop-loss and take-profit exits; the exits are one-cancels-other and live once the entry fills. */
export interface BracketRequest {
  entry: OrderRequest;
  stopLoss: number;
  takeProfit: number;
  tag?: string;
}

export interface Order {
  id: number;
  clientId: string | undefined;
  symbol: string;
  side: Side;
  qty: number;
  type: OrderType;
  limitPrice: number;
  stopPrice: number;
  tif: TimeInForce;
  reduceOnly: boolean;
  tag: string | undefined;
  status: OrderStatus;
  filledQty: number;
  avgFillPrice: number;
  createdTs: number;
  /** Bar index from which the order may fill (no look-ahead: the bar after the decision). */
  activeFrom: number;
  /** Stop-limit orders: the stop has been reached. */
  triggered: boolean;
  /** Bracket links: parent entry id for exits; OCO sibling id. */
  parentId: number;
  ocoId: number;
  /** Exit orders of a bracket wait for the entry to fill. */
  dormant: boolean;
  denyReason: DenyReason | undefined;
  /** DAY orders: the instant they expire. */
  expiresAt: number;
}

export interface Fill {
  orderId: number;
  ts: number;
  side: Side;
  qty: number;
  price: number;
  commission: number;
  /** Price moved against the order by the slippage model (>= 0, in price units). */
  slippage: number;
  /** Realized P&L of this fill in account currency, before commission. */
  realizedPnl: number;
  tag: string | undefined;
}

export type OrderEvent =
  | { type: "Submitted"; ts: number; order: Order }
  | { type: "Accepted"; ts: number; order: Order }
  | { type: "Denied"; ts: number; order: Order; reason: DenyReason; message: string }
  | { type: "PartiallyFilled"; ts: number; order: Order; fill: Fill }
  | { type: "Filled"; ts: number; order: Order; fill: Fill }
  | { type: "Cancelled"; ts: number; order: Order; reason: string }
  | { type: "Expired"; ts: number; order: Order };

/** A closed round trip (entry to flat), net of commissions. */
export interface Trade {
  side: "long" | "short";
  qty: number;
  entryTs: number;
  exitTs: number;
  entryPrice: number;
  exitPrice: number;
  /** Net of commissions. */
  pnl: number;
  commission: number;
  bars: number;
}

/** Time source. Domain code never calls Date.now(). */
export interface Clock {
  now(): number;
}

export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
}

export const systemClock: Clock = { now: () => Date.now() };
