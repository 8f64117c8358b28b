/**
 * The ports a strategy trades through. A strategy sees market data,
 * indicators, its position and its orders only through these; backtests
 * implement them over stored bars and the simulated exchange, paper and live
 * trading implement the same interfaces over feeds and brokers, so one
 * strategy object runs unchanged in every mode.
 */
import type { IndicatorHandle, IndicatorSource } from "./indicator-registry";
import type { IndicatorSpec } from "./indicators";
import type { BracketRequest, Clock, CoreInstrument, Order, OrderEvent, OrderRequest } from "./types";

export interface ExecutionClient {
  /** Submit an order. Returns it at once (status submitted/accepted, or denied); fills arrive as order events. */
  submit(req: OrderRequest): Order;
  /** Entry + OCO stop-loss and take-profit; the exits work once the entry fills. */
  submitBracket(req: BracketRequest): { entry: Order; stopLoss: Order; takeProfit: Order };
  /** Request cancellation; false when the order is unknown or no longer working. */
  cancel(orderId: number): boolean;
  cancelAll(): void;
  openOrders(): readonly Order[];
  order(orderId: number): Order | undefined;
}

/** The latest closed bar and history up to it. Index 0 = the current bar, 1 = the one before... */
export interface MarketDataClient {
  readonly instrument: CoreInstrument;
  /** Bars available up to and including the current one. */
  readonly count: number;
  time(ago?: number): number;
  open(ago?: number): number;
  high(ago?: number): number;
  low(ago?: number): number;
  close(ago?: number): number;
  volume(ago?: number): number;
  /** A streaming indicator the engine updates on every bar before the strategy's onBar. */
  indicator(spec: IndicatorSpec, source?: IndicatorSource): IndicatorHandle;
}

export interface PositionView {
  /** Signed contracts: > 0 long, < 0 short. */
  readonly qty: number;
  readonly avgPrice: number;
  readonly unrealizedPnl: number;
  readonly realizedPnl: number;
}

export interface AccountView {
  readonly cash: number;
  readonly equity: number;
  readonly marginUsed: number;
  readonly commissions: number;
}

export interface Tick {
  ts: number;
  price: number;
  size: number;
  bid?: number;
  ask?: number;
}

export interface StrategyContext {
  readonly clock: Clock;
  readonly exec: ExecutionClient;
  readonly data: MarketDataClient;
  readonly position: PositionView;
  readonly account: AccountView;
  /** Time zone for session logic (e.g. the 09:30 New York open). */
  readonly timeZone: string;
  log(message: string): void;
}

export interface Strategy {
  readonly name: string;
  onStart?(ctx: StrategyContext): void;
  /** Called after each bar closes; orders placed here fill no earlier than the next bar. */
  onBar?(ctx: StrategyContext): void;
  onTick?(ctx: StrategyContext, tick: Tick): void;
  onOrderEvent?(ctx: StrategyContext, event: OrderEvent): void;
  onStop?(ctx: StrategyContext): void;
}
