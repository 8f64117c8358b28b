import { describe, expect, it } from "vitest";
import { BuilderSpecError, BuilderSpecSchema, EXAMPLE_SPEC, OPERATORS as ENGINE_OPERATORS, OperandSchema, validateBuilderSpec } from "@/engine/core/strategies/builder";
import { INDICATOR_KINDS } from "@/engine/core/indicators";
import {
  OPERATORS,
  PRICE_FIELDS,
  SOURCES,
  appendItem,
  blankSpec,
  defaultCondition,
  exitOfType,
  getIn,
  humanPath,
  indicatorDefaults,
  localIssues,
  mapIssues,
  mergeIssues,
  moveItem,
  newGroup,
  operandOfType,
  parseJson,
  removeItem,
  runnableTimeframes,
  setIn,
  sizingOfType,
  specAnchors,
  stableKey,
  strategyId,
  toFormSpec,
  withIndicatorKind,
  withOp,
  type Condition,
  type Group,
  type Operand,
  type Spec,
} from "./spec-edit";

function issuesOf(spec: unknown): { path: string; message: string }[] {
  try {
    validateBuilderSpec(spec);
    return [];
  } catch (e) {
    if (e instanceof BuilderSpecError) return e.issues;
    throw e;
  }
}

const example = (): Spec => {
  const r = toFormSpec(structuredClone(EXAMPLE_SPEC));
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe("constants match the engine's schema", () => {
  it("operators", () => {
    expect([...OPERATORS]).toEqual([...ENGINE_OPERATORS]);
  });
  it("price fields and sources", () => {
    for (const field of PRICE_FIELDS) expect(OperandSchema.safeParse({ type: "price", field }).success).toBe(true);
    expect(OperandSchema.safeParse({ type: "price", field: "hl2" }).success).toBe(false);
    for (const source of SOURCES) expect(OperandSchema.safeParse({ type: "indicator", indicator: { kind: "sma", period: 5 }, source }).success).toBe(true);
    expect(OperandSchema.safeParse({ type: "indicator", indicator: { kind: "sma", period: 5 }, source: "typical" }).success).toBe(false);
  });
  it("every indicator's defaults are a valid operand", () => {
    for (const kind of INDICATOR_KINDS) expect(OperandSchema.safeParse({ type: "indicator", indicator: indicatorDefaults(kind) }).success, kind).toBe(true);
  });
});

describe("defaults", () => {
  it("a blank spec is valid except for its empty name", () => {
    const issues = issuesOf(blankSpec());
    expect(issues.length).toBeGreaterThan(0);
    expect(new Set(issues.map((i) => i.path))).toEqual(new Set(["name"]));
    expect(issuesOf({ ...blankSpec(), name: "x" })).toEqual([]);
  });
  it("the example survives toFormSpec unchanged in meaning", () => {
    const s = example();
    expect(issuesOf(s)).toEqual([]);
    expect(stableKey(BuilderSpecSchema.parse(s))).toBe(stableKey(BuilderSpecSchema.parse(EXAMPLE_SPEC)));
  });
  it("operandOfType keeps the same type, else gives a valid fresh operand", () => {
    const v: Operand = { type: "value", value: 7 };
    expect(operandOfType("value", v)).toBe(v);
    for (const t of ["price", "indicator", "value"] as const) expect(OperandSchema.safeParse(operandOfType(t, v)).success).toBe(true);
  });
  it("withIndicatorKind resets params, keeps a valid output, drops source for bar indicators", () => {
    const macd: Operand = { type: "indicator", indicator: indicatorDefaults("macd"), output: "signal", source: "hl2" };
    if (macd.type !== "indicator") throw new Error();
    expect(withIndicatorKind(macd, "rsi")).toEqual({ type: "indicator", indicator: { kind: "rsi", period: 14 }, source: "hl2" });
    expect(withIndicatorKind(macd, "atr")).toEqual({ type: "indicator", indicator: { kind: "atr", period: 14 } });
    const bb: Operand = { type: "indicator", indicator: indicatorDefaults("bollinger"), output: "upper" };
    if (bb.type !== "indicator") throw new Error();
    expect(withIndicatorKind(bb, "donchian")).toEqual({ type: "indicator", indicator: { kind: "donchian", period: 20 }, output: "upper" });
  });
  it("withOp moves operands between right and low/high", () => {
    const c = defaultCondition();
    const b = withOp(c, "between");
    expect(b.right).toBeUndefined();
    expect(b.low).toEqual(c.right);
    expect(b.high).toEqual({ type: "value", value: 100 });
    const back = withOp(b, "lt");
    expect(back).toEqual({ left: c.left, op: "lt", right: c.right });
    expect(issuesOf({ ...blankSpec(), name: "x", longEntry: { combine: "and", items: [b] } })).toEqual([]);
  });
  it("exits and sizing", () => {
    expect(exitOfType("none", { type: "ticks", ticks: 4 })).toBeUndefined();
    expect(exitOfType("atr")).toEqual({ type: "atr", multiple: 2, period: 14 });
    expect(sizingOfType("risk_pct")).toEqual({ type: "risk_pct", percent: 1 });
    expect(issuesOf({ ...blankSpec(), name: "x", sizing: sizingOfType("risk_pct") })).toEqual([{ path: "sizing", message: "sizing by % of equity at risk needs a stop-loss" }]);
  });
});

describe("immutable edits", () => {
  it("setIn copies only along the path and deletes on undefined", () => {
    const s = example();
    const t = setIn(s, ["longEntry", "items", 0, "right", "indicator", "period"], 60);
    expect(getIn(t, ["longEntry", "items", 0, "right", "indicator", "period"])).toBe(60);
    expect(getIn(s, ["longEntry", "items", 0, "right", "indicator", "period"])).toBe(50);
    expect(t.shortEntry).toBe(s.shortEntry);
    expect((t.longEntry!.items[1] as Condition)).toBe(s.longEntry!.items[1]);
    const u = setIn(t, ["stopLoss"], undefined);
    expect("stopLoss" in u).toBe(false);
    expect(t.stopLoss).toBeDefined();
  });
  it("setIn creates missing containers", () => {
    expect(setIn({} as Record<string, unknown>, ["a", 0, "b"], 1)).toEqual({ a: [{ b: 1 }] });
  });
  it("append, remove and move in a nested group", () => {
    let s: Spec = { ...blankSpec(), name: "x" };
    s = appendItem(s, ["longEntry"], newGroup("or"));
    s = appendItem(s, ["longEntry", "items", 1], { left: { type: "price", field: "high" }, op: "gt", right: { type: "value", value: 5 } });
    const inner = s.longEntry!.items[1] as Group;
    expect(inner.combine).toBe("or");
    expect(inner.items).toHaveLength(2);
    expect(issuesOf(s)).toEqual([]);
    const before = s;
    s = removeItem(s, ["longEntry", "items", 1], 0);
    expect((s.longEntry!.items[1] as Group).items).toEqual([{ left: { type: "price", field: "high" }, op: "gt", right: { type: "value", value: 5 } }]);
    expect((before.longEntry!.items[1] as Group).items).toHaveLength(2);
    s = moveItem(s, ["longEntry"], 1, -1);
    expect("combine" in s.longEntry!.items[0]!).toBe(true);
    expect(moveItem(s, ["longEntry"], 0, -1)).toBe(s);
    s = removeItem(s, ["longEntry", "items", 0], 0);
    expect(issuesOf(s)).toEqual([{ path: "longEntry.items.0.items", message: "a group needs at least one condition" }]);
  });
});

describe("issues -> fields", () => {
  it("puts the schema's own issues on the fields they name", () => {
    const s = example();
    let bad = setIn(s, ["longEntry", "items", 0, "right", "indicator", "period"], 0);
    bad = setIn(bad, ["shortEntry", "items", 0, "op"], "between");
    bad = setIn(bad, ["stopLoss", "multiple"], -1);
    bad = setIn(bad, ["sizing"], { type: "risk_pct", percent: 1 });
    bad = setIn(bad, ["name"], "");
    const issues = issuesOf(bad);
    const { byPath, unmapped } = mapIssues(issues, bad);
    expect(unmapped).toEqual([]);
    expect(byPath.get("name")).toContain("name is required");
    expect(byPath.get("longEntry.items.0.right.indicator")).toEqual(["period must be an integer >= 1"]);
    expect(byPath.get("shortEntry.items.0.low")).toEqual(["between needs a low operand"]);
    expect(byPath.get("stopLoss.multiple")).toEqual(["must be > 0"]);
  });
  it("maps paths with no exact field to the enclosing block, and the rest to unmapped", () => {
    const s = example();
    const { byPath, unmapped } = mapIssues(
      [
        { path: "longEntry.items", message: "a group needs at least one condition" },
        { path: "longEntry.items.7.left", message: "stale" },
        { path: "shortEntry.items.1.left.output", message: "rsi has outputs rsi" },
        { path: "session.timeZone", message: "unknown time zone" },
        { path: "sizing", message: "needs a stop-loss" },
        { path: "", message: "root" },
        { path: "schema", message: "Invalid input: expected 1" },
      ],
      s,
    );
    expect(byPath.get("longEntry")).toEqual(["a group needs at least one condition", "stale"]);
    expect(byPath.get("shortEntry.items.1.left")).toEqual(["rsi has outputs rsi"]); // no output select for RSI: the operand
    expect(byPath.get("session")).toEqual(["unknown time zone"]); // no session in the example: the block
    expect(byPath.get("sizing")).toEqual(["needs a stop-loss"]);
    expect(unmapped.map((u) => u.path)).toEqual(["", "schema"]);
  });
  it("anchors follow the spec's shape", () => {
    const a = specAnchors(example());
    expect(a.has("longEntry.items.1.low.value")).toBe(true);
    expect(a.has("longEntry.items.1.right")).toBe(false);
    expect(a.has("longEntry.items.0.right.indicator.period")).toBe(true);
    expect(a.has("stopLoss.multiple")).toBe(true);
    expect(a.has("stopLoss.ticks")).toBe(false);
    expect(a.has("sizing.contracts")).toBe(true);
    expect(a.has("longEntry.items.0.left.source")).toBe(true); // SMA: a value indicator
    expect(a.has("longEntry.items.0.left.output")).toBe(false); // one output: no select
    const atr = setIn(example(), ["longEntry", "items", 0, "left"], { type: "indicator", indicator: { kind: "atr", period: 14 }, output: "atr" });
    expect(specAnchors(atr).has("longEntry.items.0.left.output")).toBe(true); // set: shown
    expect(specAnchors(atr).has("longEntry.items.0.left.source")).toBe(false);
  });
  it("local issues name empty number fields exactly and replace the server's union error", () => {
    let s = example();
    s = setIn(s, ["longEntry", "items", 1, "low", "value"], NaN);
    s = setIn(s, ["sizing", "contracts"], NaN);
    const local = localIssues(s);
    expect(local).toEqual([
      { path: "longEntry.items.1.low.value", message: "enter a number" },
      { path: "sizing.contracts", message: "enter a number" },
    ]);
    const server = issuesOf(s);
    // the server names the exact field (validateBuilderSpec resolves zod's union error)
    expect(server.some((i) => i.path === "longEntry.items.1.low.value")).toBe(true);
    const merged = mergeIssues(server, local);
    expect(merged.find((i) => i.path === "longEntry.items.1")).toBeUndefined();
    expect(merged.filter((i) => i.path === "longEntry.items.1.low.value")).toHaveLength(1);
    expect(mapIssues(merged, s).byPath.get("longEntry.items.1.low.value")).toEqual(["enter a number"]);
    expect(server.some((i) => i.path === "sizing.contracts")).toBe(true); // "expected number, received NaN"
    expect(mapIssues(merged, s).byPath.get("sizing.contracts")).toEqual(["enter a number"]);
  });
  it("humanPath", () => {
    expect(humanPath("longEntry.items.1.items.0.right")).toBe("Long entry #2.1 right");
    expect(humanPath(["shortExit", "items", 0, "left", "indicator", "period"])).toBe("Short exit #1 left indicator period");
    expect(humanPath("stopLoss.ticks")).toBe("Stop-loss ticks");
    expect(humanPath("")).toBe("Spec");
    expect(humanPath("longEntry")).toBe("Long entry");
  });
});

describe("loading", () => {
  it("fills the schema's defaults and drops unknown keys", () => {
    const r = toFormSpec({ name: "a", longEntry: { combine: "or", items: [defaultCondition()] }, stopLoss: { type: "atr", multiple: 1 }, session: { start: "09:30", end: "11:00" }, extra: 1 });
    expect(r).toEqual({
      ok: true,
      value: {
        schema: 1,
        name: "a",
        description: "",
        longEntry: { combine: "or", items: [defaultCondition()] },
        stopLoss: { type: "atr", multiple: 1, period: 14 },
        sizing: { type: "fixed", contracts: 1 },
        session: { timeZone: "America/New_York", start: "09:30", end: "11:00", flatAtEnd: true },
      },
    });
  });
  it("a saved (validated) spec round-trips", () => {
    const saved = BuilderSpecSchema.parse({ ...EXAMPLE_SPEC, session: { start: "09:30", end: "16:00" } });
    const r = toFormSpec(JSON.parse(JSON.stringify(saved)));
    expect(r.ok && stableKey(r.value)).toBe(stableKey(saved));
  });
  it("refuses shapes the form cannot show, naming where", () => {
    expect(toFormSpec([])).toEqual({ ok: false, error: "the spec must be a JSON object" });
    expect(toFormSpec({ longEntry: { combine: "xor", items: [] } })).toEqual({ ok: false, error: 'Long entry: combine must be "and" or "or"' });
    const r = toFormSpec({ longEntry: { combine: "and", items: [{ left: { type: "indicator", indicator: { kind: "sma", period: "20" } }, op: "gt", right: { type: "value", value: 1 } }] } });
    expect(r).toEqual({ ok: false, error: "Long entry #1 left: indicator.period must be a number" });
    expect(toFormSpec({ longEntry: { combine: "and", items: [{ left: { type: "price", field: "close" }, op: "above" }] } }).ok).toBe(false);
    expect(toFormSpec({ schema: 2 }).ok).toBe(false);
  });
  it("reads null numbers (JSON's NaN) as empty fields, so a form with an empty field survives a JSON round trip", () => {
    const s = setIn(setIn(example(), ["longEntry", "items", 1, "low", "value"], NaN), ["stopLoss", "multiple"], NaN);
    const r = toFormSpec(JSON.parse(JSON.stringify(s)));
    if (!r.ok) throw new Error(r.error);
    expect(getIn(r.value, ["longEntry", "items", 1, "low", "value"])).toBeNaN();
    expect(localIssues(r.value).map((i) => i.path)).toEqual(["longEntry.items.1.low.value", "stopLoss.multiple"]);
  });
  it("passes values the server rejects (the server names them)", () => {
    const r = toFormSpec({ name: "", longEntry: { combine: "and", items: [] }, sizing: { type: "fixed", contracts: -1 } });
    expect(r.ok).toBe(true);
  });
  it("parseJson and stableKey", () => {
    expect(parseJson('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJson("{a:1}").ok).toBe(false);
    expect(stableKey({ b: 1, a: { d: 2, c: [3, { f: 1, e: 2 }] } })).toBe(stableKey({ a: { c: [3, { e: 2, f: 1 }], d: 2 }, b: 1 }));
    expect(stableKey({ a: 1 })).not.toBe(stableKey({ a: 2 }));
    expect(strategyId("trend-rsi", 3)).toBe("builder:trend-rsi@3");
  });
});

describe("runnableTimeframes", () => {
  it("stored series plus the coarser frames they resample to", () => {
    const r = runnableTimeframes([
      { timeframe: "5m", kind: "bars", count: 10 },
      { timeframe: "1h", kind: "bars", count: 10 },
      { timeframe: "1m", kind: "bars", count: 0 },
      { timeframe: "trades", kind: "trades", count: 10 },
    ]);
    expect(r).toEqual([
      { timeframe: "5m", from: "5m" },
      { timeframe: "15m", from: "5m" },
      { timeframe: "1h", from: "1h" },
      { timeframe: "4h", from: "1h" },
      { timeframe: "1d", from: "1h" },
    ]);
    expect(runnableTimeframes([])).toEqual([]);
  });
});
