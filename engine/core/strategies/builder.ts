/**
 * Strategy builder specs: a versioned JSON document (validated with zod)
 * compiled to the Strategy interface. No user code is evaluated: a spec is
 * data (operands, comparisons, AND/OR groups, exits, sizing, a session
 * filter) interpreted by the compiled strategy.
 */
import { z } from "zod";
import { tzOffset } from "../../data/tz";
import { validateTimeZone } from "../../data/csv";
import type { IndicatorHandle, IndicatorSource } from "../indicator-registry";
import { INDICATOR_KINDS, INDICATOR_OUTPUTS, type IndicatorSpec, validateIndicatorSpec } from "../indicators";
import type { Strategy, StrategyContext } from "../ports";
import type { OrderEvent } from "../types";
import { parseHhMm } from "./builtin";

const SOURCES = ["close", "open", "high", "low", "hl2", "hlc3", "ohlc4", "volume"] as const;
const hhmm = z.string().refine((s) => !Number.isNaN(parseHhMm(s)), "must be a time HH:MM");

const IndicatorSpecSchema = z
  .object({ kind: z.enum(INDICATOR_KINDS) })
  .catchall(z.number())
  .superRefine((spec, ctx) => {
    const msg = validateIndicatorSpec(spec);
    if (msg) ctx.addIssue({ code: "custom", message: msg });
  });

export const OperandSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("price"), field: z.enum(["open", "high", "low", "close", "volume"]) }),
  z.object({
    type: z.literal("indicator"),
    indicator: IndicatorSpecSchema,
    output: z.string().optional(),
    source: z.enum(SOURCES).optional(),
  }),
  z.object({ type: z.literal("value"), value: z.number().finite() }),
]);
export type Operand = z.infer<typeof OperandSchema>;

export const OPERATORS = ["crosses_above", "crosses_below", "gt", "lt", "between"] as const;

export const ConditionSchema = z
  .object({
    left: OperandSchema,
    op: z.enum(OPERATORS),
    right: OperandSchema.optional(),
    /** between: low <= left <= high */
    low: OperandSchema.optional(),
    high: OperandSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.op === "between") {
      if (!c.low) ctx.addIssue({ code: "custom", path: ["low"], message: "between needs a low operand" });
      if (!c.high) ctx.addIssue({ code: "custom", path: ["high"], message: "between needs a high operand" });
    } else if (!c.right) ctx.addIssue({ code: "custom", path: ["right"], message: `${c.op} needs a right operand` });
  });
export type Condition = z.infer<typeof ConditionSchema>;

export interface Group {
  combine: "and" | "or";
  items: (Condition | Group)[];
}
export const GroupSchema: z.ZodType<Group> = z.lazy(() =>
  z.object({
    combine: z.enum(["and", "or"]),
    items: z.array(z.union([GroupSchema, ConditionSchema])).min(1, "a group needs at least one condition"),
  }),
);

const ExitDistance = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ticks"), ticks: z.number().positive("must be > 0") }),
  z.object({ type: z.literal("atr"), multiple: z.number().positive("must be > 0"), period: z.number().int().min(1).max(1000).default(14) }),
]);

export const BuilderSpecSchema = z
  .object({
    schema: z.literal(1).default(1),
    name: z
      .string()
      .min(1, "name is required")
      .max(64)
      .regex(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, "letters, digits, space, dot, dash, underscore"),
    description: z.string().max(2000).default(""),
    longEntry: GroupSchema.optional(),
    shortEntry: GroupSchema.optional(),
    longExit: GroupSchema.optional(),
    shortExit: GroupSchema.optional(),
    stopLoss: ExitDistance.optional(),
    takeProfit: ExitDistance.optional(),
    sizing: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("fixed"), contracts: z.number().positive("must be > 0") }),
        z.object({ type: z.literal("risk_pct"), percent: z.number().positive("must be > 0").max(100) }),
      ])
      .default({ type: "fixed", contracts: 1 }),
    session: z
      .object({
        timeZone: z.string().default("America/New_York"),
        start: hhmm,
        end: hhmm,
        flatAtEnd: z.boolean().default(true),
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (!s.longEntry && !s.shortEntry) ctx.addIssue({ code: "custom", path: ["longEntry"], message: "add a long or a short entry" });
    if (s.sizing.type === "risk_pct" && !s.stopLoss) ctx.addIssue({ code: "custom", path: ["sizing"], message: "sizing by % of equity at risk needs a stop-loss" });
    if (s.session) {
      try {
        validateTimeZone(s.session.timeZone);
      } catch (e) {
        ctx.addIssue({ code: "custom", path: ["session", "timeZone"], message: (e as Error).message });
      }
    }
    const checkOutputs = (g: Group | undefined, path: (string | number)[]) => {
      if (!g) return;
      g.items.forEach((it, i) => {
        if ("combine" in it) return checkOutputs(it, [...path, "items", i]);
        for (const side of ["left", "right", "low", "high"] as const) {
          const o = it[side];
          if (o?.type === "indicator" && o.output !== undefined) {
            const outs = INDICATOR_OUTPUTS[o.indicator.kind] as readonly string[];
            if (!outs.includes(o.output)) ctx.addIssue({ code: "custom", path: [...path, "items", i, side, "output"], message: `${o.indicator.kind} has outputs ${outs.join(", ")}` });
          }
        }
      });
    };
    checkOutputs(s.longEntry, ["longEntry"]);
    checkOutputs(s.shortEntry, ["shortEntry"]);
    checkOutputs(s.longExit, ["longExit"]);
    checkOutputs(s.shortExit, ["shortExit"]);
  });
export type BuilderSpec = z.output<typeof BuilderSpecSchema>;

export class BuilderSpecError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(issues.map((i) => `${i.path || "spec"}: ${i.message}`).join("; "));
    this.name = "BuilderSpecError";
  }
}

type RawIssue = { code?: string; path: PropertyKey[]; message: string; errors?: RawIssue[][] };

/**
 * A rule item is a group or a condition; zod reports a bad one as a single
 * "invalid union" issue. Pick the branch the item meant (a `combine` key
 * makes it a group) so the errors name the exact field.
 */
function flattenIssues(issues: RawIssue[], input: unknown, base: PropertyKey[] = []): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const i of issues) {
    const path = [...base, ...i.path];
    if (i.code === "invalid_union" && i.errors && i.errors.length === 2) {
      let item: unknown = input;
      for (const k of path) item = item && typeof item === "object" ? (item as Record<PropertyKey, unknown>)[k] : undefined;
      const isGroup = !!item && typeof item === "object" && "combine" in item;
      out.push(...flattenIssues(i.errors[isGroup ? 0 : 1]!, input, path));
      continue;
    }
    out.push({ path: path.map(String).join("."), message: i.message });
  }
  return out;
}

export function validateBuilderSpec(input: unknown): BuilderSpec {
  const r = BuilderSpecSchema.safeParse(input);
  if (!r.success) throw new BuilderSpecError(flattenIssues(r.error.issues as unknown as RawIssue[], input));
  return r.data;
}

// ---------------------------------------------------------------------------

interface Evaluated {
  now: number;
  prev: number;
}

class OperandEval implements Evaluated {
  now = NaN;
  prev = NaN;
  constructor(
    readonly op: Operand,
    readonly handle: IndicatorHandle | null,
  ) {}
  update(ctx: StrategyContext): void {
    this.prev = this.now;
    const o = this.op;
    if (o.type === "value") this.now = o.value;
    else if (o.type === "price") this.now = ctx.data[o.field]();
    else this.now = o.output ? this.handle!.read(o.output) : this.handle!.value;
  }
}

type Node = { kind: "group"; combine: "and" | "or"; items: Node[] } | { kind: "cond"; op: Condition["op"]; l: OperandEval; r: OperandEval | null; lo: OperandEval | null; hi: OperandEval | null };

function evalNode(n: Node): boolean {
  if (n.kind === "group") {
    if (n.combine === "and") {
      for (const it of n.items) if (!evalNode(it)) return false;
      return true;
    }
    for (const it of n.items) if (evalNode(it)) return true;
    return false;
  }
  const l = n.l;
  switch (n.op) {
    case "gt":
      return l.now > n.r!.now;
    case "lt":
      return l.now < n.r!.now;
    case "between":
      return l.now >= n.lo!.now && l.now <= n.hi!.now;
    case "crosses_above":
      return l.prev <= n.r!.prev && l.now > n.r!.now;
    case "crosses_below":
      return l.prev >= n.r!.prev && l.now < n.r!.now;
  }
}

/** The compiled strategy: interprets a validated spec through the StrategyContext. */
export class BuilderStrategy implements Strategy {
  readonly name: string;
  private readonly spec: BuilderSpec;
  private operands: OperandEval[] = [];
  private longEntry: Node | null = null;
  private shortEntry: Node | null = null;
  private longExit: Node | null = null;
  private shortExit: Node | null = null;
  private atrStop: IndicatorHandle | null = null;
  private atrTarget: IndicatorHandle | null = null;
  private pendingEntry = 0;
  private hour = NaN;
  private off = 0;
  private readonly sessStart: number;
  private readonly sessEnd: number;

  constructor(spec: BuilderSpec) {
    this.spec = spec;
    this.name = `builder:${spec.name}`;
    this.sessStart = spec.session ? parseHhMm(spec.session.start) : NaN;
    this.sessEnd = spec.session ? parseHhMm(spec.session.end) : NaN;
  }

  onStart(ctx: StrategyContext): void {
    const handles = new Map<string, IndicatorHandle>();
    const operand = (o: Operand): OperandEval => {
      let h: IndicatorHandle | null = null;
      if (o.type === "indicator") {
        const key = JSON.stringify([o.indicator, o.source ?? "close"]);
        h = handles.get(key) ?? ctx.data.indicator(o.indicator as IndicatorSpec, (o.source ?? "close") as IndicatorSource);
        handles.set(key, h);
      }
      const e = new OperandEval(o, h);
      this.operands.push(e);
      return e;
    };
    const compile = (g: Group | Condition): Node =>
      "combine" in g
        ? { kind: "group", combine: g.combine, items: g.items.map(compile) }
        : { kind: "cond", op: g.op, l: operand(g.left), r: g.right ? operand(g.right) : null, lo: g.low ? operand(g.low) : null, hi: g.high ? operand(g.high) : null };
    const s = this.spec;
    this.longEntry = s.longEntry ? compile(s.longEntry) : null;
    this.shortEntry = s.shortEntry ? compile(s.shortEntry) : null;
    this.longExit = s.longExit ? compile(s.longExit) : null;
    this.shortExit = s.shortExit ? compile(s.shortExit) : null;
    if (s.stopLoss?.type === "atr") this.atrStop = ctx.data.indicator({ kind: "atr", period: s.stopLoss.period });
    if (s.takeProfit?.type === "atr") this.atrTarget = ctx.data.indicator({ kind: "atr", period: s.takeProfit.period });
  }

  private localMinutes(ts: number, zone: string): number {
    const h = Math.floor(ts / 3_600_000);
    if (h !== this.hour) {
      this.hour = h;
      this.off = tzOffset(zone, ts);
    }
    return Math.floor((((ts + this.off) % 86_400_000) + 86_400_000) % 86_400_000 / 60_000);
  }

  private distance(d: BuilderSpec["stopLoss"], atr: IndicatorHandle | null, tick: number): number {
    if (!d) return NaN;
    if (d.type === "ticks") return d.ticks * (tick > 0 ? tick : 1);
    return atr && atr.ready ? d.multiple * atr.value : NaN;
  }

  onBar(ctx: StrategyContext): void {
    for (let i = 0; i < this.operands.length; i++) this.operands[i]!.update(ctx);
    const s = this.spec;
    const pos = ctx.position.qty;
    let inSession = true;
    if (s.session) {
      const open = this.localMinutes(ctx.data.time(), s.session.timeZone);
      const closeMin = this.localMinutes(ctx.clock.now(), s.session.timeZone);
      inSession = open >= this.sessStart && open < this.sessEnd;
      const pastEnd = !inSession || (closeMin >= this.sessEnd && closeMin > open);
      if (s.session.flatAtEnd && pastEnd) {
        if (pos !== 0 || ctx.exec.openOrders().length) {
          ctx.exec.cancelAll();
          if (pos !== 0) ctx.exec.submit({ side: pos > 0 ? "sell" : "buy", qty: Math.abs(pos), type: "market", tag: "session-end" });
        }
        return;
      }
    }
    if (pos > 0 && this.longExit && evalNode(this.longExit)) return this.flatten(ctx, pos, "long-exit");
    if (pos < 0 && this.shortExit && evalNode(this.shortExit)) return this.flatten(ctx, pos, "short-exit");
    if (pos !== 0 || this.pendingEntry !== 0 || !inSession) return;
    const long = this.longEntry !== null && evalNode(this.longEntry);
    const short = !long && this.shortEntry !== null && evalNode(this.shortEntry);
    if (long || short) this.enter(ctx, long ? "buy" : "sell");
  }

  private flatten(ctx: StrategyContext, pos: number, tag: string): void {
    ctx.exec.cancelAll();
    ctx.exec.submit({ side: pos > 0 ? "sell" : "buy", qty: Math.abs(pos), type: "market", tag });
  }

  private enter(ctx: StrategyContext, side: "buy" | "sell"): void {
    const s = this.spec;
    const price = ctx.data.close();
    const inst = ctx.data.instrument;
    const stopDist = this.distance(s.stopLoss, this.atrStop, inst.tickSize);
    const targetDist = this.distance(s.takeProfit, this.atrTarget, inst.tickSize);
    if ((s.stopLoss && !(stopDist > 0)) || (s.takeProfit && !(targetDist > 0))) return; // ATR still warming up
    let qty: number;
    if (s.sizing.type === "fixed") qty = s.sizing.contracts;
    else {
      const risk = (ctx.account.equity * s.sizing.percent) / 100;
      qty = Math.floor(risk / (stopDist * inst.pointValue));
      if (qty < 1) return; // the stop is too wide for the risk budget
    }
    const dir = side === "buy" ? 1 : -1;
    this.pendingEntry = dir;
    const tag = side === "buy" ? "long-entry" : "short-entry";
    if (s.stopLoss && s.takeProfit) {
      ctx.exec.submitBracket({ entry: { side, qty, type: "market" }, stopLoss: price - dir * stopDist, takeProfit: price + dir * targetDist, tag });
    } else {
      ctx.exec.submit({ side, qty, type: "market", tag });
    }
  }

  onOrderEvent(ctx: StrategyContext, ev: OrderEvent): void {
    if (ev.order.parentId !== 0 || ev.order.reduceOnly) return;
    if (ev.type === "Filled" && this.pendingEntry !== 0 && (ev.order.tag === "long-entry" || ev.order.tag === "short-entry")) {
      const s = this.spec;
      const dir = this.pendingEntry;
      this.pendingEntry = 0;
      const exitSide = dir > 0 ? "sell" : "buy";
      const tick = ctx.data.instrument.tickSize;
      // single exits (a bracket places both itself), measured from the fill
      if (s.stopLoss && !s.takeProfit) {
        const d = this.distance(s.stopLoss, this.atrStop, tick);
        ctx.exec.submit({ side: exitSide, qty: ev.order.filledQty, type: "stop", stopPrice: ev.fill.price - dir * d, reduceOnly: true, tag: "stop-loss" });
      } else if (s.takeProfit && !s.stopLoss) {
        const d = this.distance(s.takeProfit, this.atrTarget, tick);
        ctx.exec.submit({ side: exitSide, qty: ev.order.filledQty, type: "limit", limitPrice: ev.fill.price + dir * d, reduceOnly: true, tag: "take-profit" });
      }
    } else if ((ev.type === "Cancelled" || ev.type === "Denied" || ev.type === "Expired") && (ev.order.tag === "long-entry" || ev.order.tag === "short-entry")) {
      this.pendingEntry = 0;
    }
  }
}

export function compileBuilderSpec(input: unknown): { spec: BuilderSpec; create: () => Strategy } {
  const spec = validateBuilderSpec(input);
  return { spec, create: () => new BuilderStrategy(spec) };
}

/** A ready-made example for the builder page: SMA 20/50 cross with an RSI filter, ATR bracket, New York hours. */
export const EXAMPLE_SPEC: z.input<typeof BuilderSpecSchema> = {
  schema: 1,
  name: "trend-rsi",
  description: "Long when SMA 20 crosses above SMA 50 and RSI 14 is between 40 and 70; short on the mirror image. ATR bracket.",
  longEntry: {
    combine: "and",
    items: [
      { left: { type: "indicator", indicator: { kind: "sma", period: 20 } }, op: "crosses_above", right: { type: "indicator", indicator: { kind: "sma", period: 50 } } },
      { left: { type: "indicator", indicator: { kind: "rsi", period: 14 } }, op: "between", low: { type: "value", value: 40 }, high: { type: "value", value: 70 } },
    ],
  },
  shortEntry: {
    combine: "and",
    items: [
      { left: { type: "indicator", indicator: { kind: "sma", period: 20 } }, op: "crosses_below", right: { type: "indicator", indicator: { kind: "sma", period: 50 } } },
      { left: { type: "indicator", indicator: { kind: "rsi", period: 14 } }, op: "between", low: { type: "value", value: 30 }, high: { type: "value", value: 60 } },
    ],
  },
  stopLoss: { type: "atr", multiple: 2, period: 14 },
  takeProfit: { type: "atr", multiple: 3, period: 14 },
  sizing: { type: "fixed", contracts: 1 },
};
