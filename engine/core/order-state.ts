/**
 * The order state machine. Every status change goes through transition(),
 * which refuses anything not in the table, so no mode (backtest, paper, live)
 * can move an order from Filled back to Accepted or fill a cancelled order.
 *
 *   submitted -> accepted | denied
 *   accepted -> partially_filled | filled | cancelled | expired
 *   partially_filled -> partially_filled | filled | cancelled | expired
 *   filled, cancelled, expired, denied: terminal
 */
import type { Order, OrderStatus } from "./types";

const NEXT: Record<OrderStatus, readonly OrderStatus[]> = {
  submitted: ["accepted", "denied"],
  accepted: ["partially_filled", "filled", "cancelled", "expired"],
  partially_filled: ["partially_filled", "filled", "cancelled", "expired"],
  filled: [],
  cancelled: [],
  expired: [],
  denied: [],
};

export class OrderStateError extends Error {
  constructor(
    readonly orderId: number,
    readonly from: OrderStatus,
    readonly to: OrderStatus,
  ) {
    super(`order ${orderId}: illegal transition ${from} -> ${to}`);
    this.name = "OrderStateError";
  }
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[from].includes(to);
}

export function transition(order: Order, to: OrderStatus): void {
  if (!canTransition(order.status, to)) throw new OrderStateError(order.id, order.status, to);
  order.status = to;
}

export function isTerminal(s: OrderStatus): boolean {
  return NEXT[s].length === 0;
}

export function isWorking(o: Order): boolean {
  return o.status === "accepted" || o.status === "partially_filled";
}
