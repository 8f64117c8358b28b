import { describe, expect, it } from "vitest";
import { Account } from "./account";
import { slipped, TickGrid } from "./costs";
import { canTransition, OrderStateError, transition } from "./order-state";
import { SimExchange, type SimExchangeOptions } from "./sim-exchange";
import { type CoreInstrument, ManualClock, type OrderEvent } from "./types";

const NQ: CoreInstrument = { symbol: "NQ", tickSize: 0.25, pointValue: 20, currency: "USD" };
const UNIT: CoreInstrument = { symbol: "UNIT", tickSize: 0, pointValue: 1, currency: "USD" };

function setup(extra: Partial<SimExchangeOptions> = {}) {
  const clock = new ManualClock(0);
  const ex = new SimExchange({ instrument: NQ, cash: 100_000, clock, ...extra });
  const events: OrderEvent[] = [];
  ex.onEvent((e) => events.push(e));
  let seq = -1;
  /** Close bar `seq` (decisions after it act from the next bar) then feed the next bar. */
  const bar = (o: number, h: number, l: number, c: number, v = 1000) => {
    seq++;
    clock.set(seq * 60_000);
    ex.processBar(seq, seq * 60_000, o, h, l, c, v);
  };
  return { ex, events, bar, clock };
}

describe("tick grid", () => {
  it("snaps against the trader and builds clean decimal prices", () => {
    const g = new TickGrid(0.25);
    expect(g.adverse(100.1, "buy")).toBe(100.25);
    expect(g.adverse(100.1, "sell")).toBe(100);
    expect(g.round(100.13)).toBe(100.25);
    const fx = new TickGrid(0.00005);
    expect(fx.price(21_847)).toBe(1.09235);
    expect(fx.adverse(1.092351, "buy")).toBe(1.0924);
    const odd = new TickGrid(0.3);
    expect(odd.price(7)).toBe(2.1);
    expect(new TickGrid(0).adverse(1.2345, "buy")).toBe(1.2345);
  });
  it("slippage in ticks and percent moves against the order", () => {
    const g = new TickGrid(0.25);
    expect(slipped({ kind: "ticks", ticks: 2 }, g, 100, "buy")).toBe(100.5);
    expect(slipped({ kind: "ticks", ticks: 2 }, g, 100, "sell")).toBe(99.5);
    expect(slipped({ kind: "percent", percent: 0.1 }, g, 1000, "buy")).toBe(1001);
    expect(slipped({ kind: "percent", percent: 0.1 }, g, 1000, "sell")).toBe(999);
  });
});

describe("order state machine", () => {
  it("allows only the documented transitions", () => {
    expect(canTransition("submitted", "accepted")).toBe(true);
    expect(canTransition("accepted", "partially_filled")).toBe(true);
    expect(canTransition("filled", "cancelled")).toBe(false);
    expect(canTransition("denied", "accepted")).toBe(false);
    const { ex, bar } = setup();
    bar(100, 101, 99, 100);
    const o = ex.submit({ side: "buy", qty: 1, type: "market" });
    bar(100, 101, 99, 100);
    expect(o.status).toBe("filled");
    expect(() => transition(o, "cancelled")).toThrow(OrderStateError);
    expect(ex.cancel(o.id)).toBe(false);
  });
});

describe("fill model on bars", () => {
  it("fills a market order at the NEXT bar's open, never the decision bar", () => {
    const { ex, bar, events } = setup({ slippage: { kind: "ticks", ticks: 1 } });
    bar(100, 105, 95, 104);
    const o = ex.submit({ side: "buy", qty: 2, type: "market" });
    expect(o.status).toBe("accepted");
    expect(ex.account.qty).toBe(0);
    bar(110, 112, 108, 111);
    expect(o.status).toBe("filled");
    expect(ex.fills[0]!.price).toBe(110.25); // open + 1 tick
    expect(ex.fills[0]!.slippage).toBe(0.25);
    expect(events.map((e) => e.type)).toEqual(["Submitted", "Accepted", "Filled"]);
  });

  it("limits fill at the limit when touched, at the open when the bar opens better", () => {
    const { ex, bar } = setup();
    bar(100, 100, 100, 100);
    ex.submit({ side: "buy", qty: 1, type: "limit", limitPrice: 98.1 }); // snaps down to 98
    bar(99, 99.5, 98.25, 99); // low 98.25 does not reach 98
    expect(ex.account.qty).toBe(0);
    bar(99, 99.5, 97, 98);
    expect(ex.fills[0]!.price).toBe(98);
    ex.submit({ side: "sell", qty: 1, type: "limit", limitPrice: 101 });
    bar(103, 104, 102, 103); // opens above the limit: fills at the better open
    expect(ex.fills[1]!.price).toBe(103);
    expect(ex.account.qty).toBe(0);
  });

  it("stops fill at the stop when the range reaches it, at the open on a gap through it", () => {
    const { ex, bar } = setup();
    bar(100, 100, 100, 100);
    ex.submit({ side: "buy", qty: 1, type: "stop", stopPrice: 102 });
    bar(100, 103, 99, 101);
    expect(ex.fills[0]!.price).toBe(102);
    ex.submit({ side: "sell", qty: 1, type: "stop", stopPrice: 99 });
    bar(95, 96, 94, 95); // gap below the stop
    expect(ex.fills[1]!.price).toBe(95);
  });

  it("stop-limit: triggers at the stop, fills only within the limit", () => {
    const { ex, bar } = setup();
    bar(100, 100, 100, 100);
    const o = ex.submit({ side: "buy", qty: 1, type: "stop_limit", stopPrice: 102, limitPrice: 101 });
    bar(100, 103, 99, 102.5); // triggered at 102 > limit 101: waits as a limit
    expect(o.triggered).toBe(true);
    expect(o.status).toBe("accepted");
    bar(102, 102, 100.5, 101);
    expect(ex.fills[0]!.price).toBe(101);
  });

  it("bracket: stop-loss first when both exits are inside one bar; configurable", () => {
    for (const policy of ["stop_first", "target_first"] as const) {
      const { ex, bar } = setup({ sameBarPolicy: policy });
      bar(100, 100, 100, 100);
      const b = ex.submitBracket({ entry: { side: "buy", qty: 1, type: "market" }, stopLoss: 98, takeProfit: 103 });
      expect(b.stopLoss.status).toBe("accepted");
      bar(100, 101, 99.5, 100.5); // entry at the open; neither exit reached
      expect(ex.account.qty).toBe(1);
      bar(100, 104, 97, 100); // both reached
      expect(ex.account.qty).toBe(0);
      const exit = ex.fills[1]!;
      expect(exit.price).toBe(policy === "stop_first" ? 98 : 103);
      expect((policy === "stop_first" ? b.takeProfit : b.stopLoss).status).toBe("cancelled");
    }
  });

  it("bracket entered intrabar: only the stop can fill on the entry bar", () => {
    const { ex, bar } = setup();
    bar(100, 100, 100, 100);
    ex.submitBracket({ entry: { side: "buy", qty: 1, type: "limit", limitPrice: 99 }, stopLoss: 97, takeProfit: 101 });
    bar(100, 102, 98.5, 101); // entry at 99 intrabar; target 101 touched too but may have come first: not filled
    expect(ex.account.qty).toBe(1);
    bar(100.5, 101.5, 100, 101);
    expect(ex.account.qty).toBe(0);
    expect(ex.fills[1]!.price).toBe(101);
  });

  it("an unfilled bracket entry cancelled takes its exits with it", () => {
    const { ex, bar } = setup();
    bar(100, 100, 100, 100);
    const b = ex.submitBracket({ entry: { side: "buy", qty: 1, type: "limit", limitPrice: 90 }, stopLoss: 85, takeProfit: 95 });
    ex.cancel(b.entry.id);
    expect([b.entry.status, b.stopLoss.status, b.takeProfit.status]).toEqual(["cancelled", "cancelled", "cancelled"]);
    expect(ex.openOrders()).toHaveLength(0);
  });

  it("bracket with exits on the wrong side is denied with a reason", () => {
    const { ex, bar, events } = setup();
    bar(100, 100, 100, 100);
    const b = ex.submitBracket({ entry: { side: "buy", qty: 1, type: "market" }, stopLoss: 105, takeProfit: 110 });
    expect(b.stopLoss.status).toBe("denied");
    expect(b.entry.status).toBe("cancelled");
    expect(events.find((e) => e.type === "Denied")).toMatchObject({ reason: "INVALID_PRICE" });
  });

  it("DAY orders expire at the session end; IOC gets one bar; GTC stays", () => {
    const { ex, bar } = setup({ sessionEnd: (ts) => ts + 3 * 60_000 });
    bar(100, 100, 100, 100);
    const day = ex.submit({ side: "buy", qty: 1, type: "limit", limitPrice: 50, tif: "DAY" });
    const ioc = ex.submit({ side: "buy", qty: 1, type: "limit", limitPrice: 50, tif: "IOC" });
    const gtc = ex.submit({ side: "buy", qty: 1, type: "limit", limitPrice: 50 });
    bar(100, 100, 100, 100);
    expect(ioc.status).toBe("cancelled");
    expect(day.status).toBe("accepted");
    bar(100, 100, 100, 100);
    bar(100, 100, 100, 100);
    expect(day.status).toBe("expired");
    expect(gtc.status).toBe("accepted");
  });

  it("partial fills under a participation cap", () => {
    const { ex, bar, events } = setup({ maxParticipation: 0.1 });
    bar(100, 100, 100, 100);
    const o = ex.submit({ side: "buy", qty: 25, type: "market" });
    bar(100, 101, 99, 100, 100); // 10 fillable
    expect(o.status).toBe("partially_filled");
    expect(o.filledQty).toBe(10);
    bar(100, 101, 99, 100, 100);
    bar(100, 101, 99, 100, 100);
    expect(o.status).toBe("filled");
    expect(events.filter((e) => e.type === "PartiallyFilled")).toHaveLength(2);
  });

  it("denies bad orders with reason codes and keeps one order per idempotency key", () => {
    const { ex, bar, events } = setup();
    bar(100, 100, 100, 100);
    expect(ex.submit({ side: "buy", qty: 0, type: "market" }).denyReason).toBe("INVALID_QUANTITY");
    expect(ex.submit({ side: "buy", qty: 1, type: "limit" }).denyReason).toBe("MISSING_PRICE");
    expect(ex.submit({ side: "sell", qty: 1, type: "market", reduceOnly: true }).denyReason).toBe("REDUCE_ONLY");
    const a = ex.submit({ side: "buy", qty: 1, type: "market", clientId: "k1" });
    const b = ex.submit({ side: "buy", qty: 1, type: "market", clientId: "k1" });
    expect(b).toBe(a);
    bar(100, 100, 100, 100);
    expect(ex.account.qty).toBe(1);
    expect(events.filter((e) => e.type === "Denied")).toHaveLength(3);
  });

  it("denies an order beyond the initial margin", () => {
    const { ex, bar } = setup({ instrument: { ...NQ, marginPerContract: 20_000 } });
    bar(100, 100, 100, 100);
    expect(ex.submit({ side: "buy", qty: 5, type: "market" }).status).toBe("accepted");
    expect(ex.submit({ side: "buy", qty: 6, type: "market" }).denyReason).toBe("INSUFFICIENT_MARGIN");
  });

  it("fills at tick prices on tick data: buys at the ask, sells at the bid", () => {
    const clock = new ManualClock(0);
    const ex = new SimExchange({ instrument: NQ, cash: 100_000, clock });
    ex.processTick(0, 0, 100, 1, 99.75, 100.25);
    ex.submit({ side: "buy", qty: 1, type: "market" });
    ex.processTick(1, 1, 100.5, 1, 100.25, 100.75);
    expect(ex.fills[0]!.price).toBe(100.75);
    ex.submit({ side: "sell", qty: 1, type: "limit", limitPrice: 101 });
    ex.processTick(2, 2, 100.75, 1, 100.5, 101);
    expect(ex.fills).toHaveLength(1);
    ex.processTick(3, 3, 101.25, 1, 101.25, 101.5);
    expect(ex.fills[1]!.price).toBe(101.25);
  });
});

describe("account", () => {
  it("tracks long, short, flips through zero and average price", () => {
    const a = new Account(NQ, 100_000);
    a.fill("buy", 2, 100, 0, 1, 1);
    a.fill("buy", 2, 101, 0, 2, 2);
    expect(a.avgPrice).toBe(100.5);
    expect(a.unrealized(102)).toBe((102 - 100.5) * 4 * 20);
    const realized = a.fill("sell", 6, 103, 0, 3, 3); // closes 4, opens short 2
    expect(realized).toBe(((103 - 100) * 2 + (103 - 101) * 2) * 20);
    expect(a.lastClosed).toMatchObject({ side: "long", qty: 4, entryPrice: 100.5, exitPrice: 103 });
    expect(a.qty).toBe(-2);
    expect(a.avgPrice).toBe(103);
    a.fill("buy", 2, 104, 0, 4, 4);
    expect(a.trades.at(-1)).toMatchObject({ side: "short", pnl: -2 * 20 });
    expect(a.cash).toBe(100_000 + 200 - 40);
  });

  it("commission models: per contract, percent of notional, per fill", async () => {
    const { commissionFor } = await import("./costs");
    expect(commissionFor({ kind: "per_contract", amount: 2.25 }, 4, 15_000, 20)).toBe(9);
    expect(commissionFor({ kind: "percent", percent: 0.1 }, 0.5, 60_000, 1)).toBeCloseTo(30, 12);
    expect(commissionFor({ kind: "per_fill", amount: 1 }, 100, 99, 1)).toBe(1);
  });

  it("P&L does not drift: 1M random round trips equal an exact integer-tick sum", () => {
    let seed = 12345;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    for (const inst of [NQ, { symbol: "6E", tickSize: 0.00005, pointValue: 125_000, currency: "USD" }, { symbol: "ES", tickSize: 0.25, pointValue: 50, currency: "USD" }]) {
      const a = new Account(inst, 1_000_000);
      const g = new TickGrid(inst.tickSize);
      let exactTicks = 0n;
      const n = inst.symbol === "NQ" ? 1_000_000 : 200_000;
      for (let i = 0; i < n; i++) {
        const q = 1 + Math.floor(rnd() * 5);
        const e = 40_000 + Math.floor(rnd() * 40_000);
        const x = e + Math.floor(rnd() * 400) - 200;
        const long = rnd() < 0.5;
        a.fill(long ? "buy" : "sell", q, g.price(e), 0, i, i);
        a.fill(long ? "sell" : "buy", q, g.price(x), 0, i, i);
        exactTicks += BigInt((long ? x - e : e - x) * q);
      }
      const tickValueCents = BigInt(Math.round(inst.tickSize * inst.pointValue * 100));
      const exactCents = exactTicks * tickValueCents;
      expect(BigInt(Math.round(a.realizedPnl * 100))).toBe(exactCents);
      expect(a.trades).toHaveLength(n);
    }
  });

  it("no tick grid (unit instrument) keeps raw prices", () => {
    const a = new Account(UNIT, 1000);
    a.fill("buy", 100, 10.123, 1, 0, 0);
    a.fill("sell", 100, 10.456, 1, 1, 1);
    expect(a.cash).toBeCloseTo(1000 + 33.3 - 2, 9);
  });
});
