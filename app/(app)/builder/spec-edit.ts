/**
 * Pure helpers for the strategy builder page: the form's view of a builder
 * spec (engine/core/strategies/builder.ts is the authority; the server
 * validates), immutable edits by path, issue-path -> field mapping, and small
 * conversions. No React, no I/O: everything here is unit tested.
 *
 * Deliberately no runtime import of engine/core/strategies/builder.ts: it pulls
 * in the CSV reader (node:buffer), which has no place in the browser bundle.
 * spec-edit.test.ts checks that the constants below match the schema.
 */
import { INDICATOR_DEFAULTS, INDICATOR_INPUTS, INDICATOR_KINDS, INDICATOR_OUTPUTS, INDICATOR_PARAMS, type IndicatorKind } from "@/engine/core/indicators";
import { TIMEFRAMES, TIMEFRAME_MS, type Timeframe } from "@/engine/data/types";

// ---------------------------------------------------------------------------
// The spec as the form sees it
// ---------------------------------------------------------------------------

export const OPERATORS = ["crosses_above", "crosses_below", "gt", "lt", "between"] as const;
export type Op = (typeof OPERATORS)[number];
export const OP_LABELS: Record<Op, string> = {
  crosses_above: "crosses above",
  crosses_below: "crosses below",
  gt: "is above (>)",
  lt: "is below (<)",
  between: "is between",
};

export const PRICE_FIELDS = ["open", "high", "low", "close", "volume"] as const;
export type PriceField = (typeof PRICE_FIELDS)[number];
/** Inputs of value indicators (SMA, RSI, ...); bar indicators read the whole bar. */
export const SOURCES = ["close", "open", "high", "low", "hl2", "hlc3", "ohlc4", "volume"] as const;
export type Source = (typeof SOURCES)[number];

export const SECTIONS = ["longEntry", "shortEntry", "longExit", "shortExit"] as const;
export type Section = (typeof SECTIONS)[number];
export const SECTION_LABELS: Record<Section, string> = { longEntry: "Long entry", shortEntry: "Short entry", longExit: "Long exit", shortExit: "Short exit" };

export const OPERAND_TYPES = ["price", "indicator", "value"] as const;
export type OperandType = (typeof OPERAND_TYPES)[number];

export interface IndicatorRef {
  kind: IndicatorKind;
  [param: string]: number | string;
}

export type Operand =
  | { type: "price"; field: PriceField }
  | { type: "indicator"; indicator: IndicatorRef; output?: string; source?: Source }
  | { type: "value"; value: number };

export interface Condition {
  left: Operand;
  op: Op;
  right?: Operand;
  low?: Operand;
  high?: Operand;
}
export interface Group {
  combine: "and" | "or";
  items: Item[];
}
export type Item = Condition | Group;

export type Exit = { type: "ticks"; ticks: number } | { type: "atr"; multiple: number; period: number };
export type Sizing = { type: "fixed"; contracts: number } | { type: "risk_pct"; percent: number };
export interface Session {
  timeZone: string;
  start: string;
  end: string;
  flatAtEnd: boolean;
}

export interface Spec {
  schema: 1;
  name: string;
  description: string;
  longEntry?: Group;
  shortEntry?: Group;
  longExit?: Group;
  shortExit?: Group;
  stopLoss?: Exit;
  takeProfit?: Exit;
  sizing: Sizing;
  session?: Session;
}

export type Path = (string | number)[];
export interface Issue {
  path: string;
  message: string;
}

export const isGroup = (it: Item): it is Group => "combine" in it;

// ---------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------

export function indicatorDefaults(kind: IndicatorKind): IndicatorRef {
  return { ...INDICATOR_DEFAULTS[kind] } as IndicatorRef;
}

export function defaultCondition(): Condition {
  return { left: { type: "price", field: "close" }, op: "crosses_above", right: { type: "indicator", indicator: indicatorDefaults("sma") } };
}

export function newGroup(combine: "and" | "or" = "and"): Group {
  return { combine, items: [defaultCondition()] };
}

export function blankSpec(): Spec {
  return { schema: 1, name: "", description: "", longEntry: newGroup("and"), sizing: { type: "fixed", contracts: 1 } };
}

export function defaultSession(): Session {
  return { timeZone: "America/New_York", start: "09:30", end: "16:00", flatAtEnd: true };
}

/** A fresh operand of a type; keeps what it can of the previous one (e.g. a number). */
export function operandOfType(type: OperandType, prev?: Operand): Operand {
  if (prev?.type === type) return prev;
  if (type === "price") return { type: "price", field: "close" };
  if (type === "value") return { type: "value", value: 0 };
  return { type: "indicator", indicator: indicatorDefaults("sma") };
}

/** Changes an indicator operand's kind: default parameters; output and source only where the new kind has them. */
export function withIndicatorKind(o: Extract<Operand, { type: "indicator" }>, kind: IndicatorKind): Operand {
  const next: Extract<Operand, { type: "indicator" }> = { type: "indicator", indicator: indicatorDefaults(kind) };
  if (o.output !== undefined && (INDICATOR_OUTPUTS[kind] as readonly string[]).includes(o.output)) next.output = o.output;
  if (o.source !== undefined && INDICATOR_INPUTS[kind] === "value") next.source = o.source;
  return next;
}

export const hasSource = (kind: IndicatorKind): boolean => INDICATOR_INPUTS[kind] === "value";
export const outputsOf = (kind: IndicatorKind): readonly string[] => INDICATOR_OUTPUTS[kind];
export const paramsOf = (kind: IndicatorKind) => INDICATOR_PARAMS[kind];
export { INDICATOR_KINDS };

/** Changes a condition's operator, moving operands between right and low/high. */
export function withOp(c: Condition, op: Op): Condition {
  const { left } = c;
  if (op === "between") {
    return { left, op, low: c.low ?? c.right ?? { type: "value", value: 0 }, high: c.high ?? { type: "value", value: 100 } };
  }
  return { left, op, right: c.right ?? c.low ?? { type: "value", value: 0 } };
}

export function exitOfType(type: "none" | "ticks" | "atr", prev?: Exit): Exit | undefined {
  if (type === "none") return undefined;
  if (prev?.type === type) return prev;
  return type === "ticks" ? { type: "ticks", ticks: 20 } : { type: "atr", multiple: 2, period: 14 };
}

export function sizingOfType(type: Sizing["type"], prev?: Sizing): Sizing {
  if (prev?.type === type) return prev;
  return type === "fixed" ? { type: "fixed", contracts: 1 } : { type: "risk_pct", percent: 1 };
}

// ---------------------------------------------------------------------------
// Immutable edits by path
// ---------------------------------------------------------------------------

export const pathKey = (p: Path): string => p.join(".");

export function getIn(obj: unknown, path: Path): unknown {
  let cur = obj;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/**
 * Returns a copy of obj with the value at path replaced (only the objects and
 * arrays along the path are copied). `undefined` deletes an object key; a
 * missing intermediate is created as an object (or an array before a numeric segment).
 */
export function setIn<T>(obj: T, path: Path, value: unknown): T {
  if (path.length === 0) return value as T;
  const [head, ...rest] = path as [string | number, ...Path];
  const base: unknown = obj ?? (typeof head === "number" ? [] : {});
  const child = setIn((base as Record<string | number, unknown>)[head], rest, value);
  if (Array.isArray(base)) {
    const copy = base.slice();
    copy[head as number] = child;
    return copy as T;
  }
  const copy = { ...(base as Record<string, unknown>) };
  if (child === undefined && rest.length === 0) delete copy[head];
  else copy[head] = child;
  return copy as T;
}

/** Appends an item to the group at groupPath. */
export function appendItem(spec: Spec, groupPath: Path, item: Item): Spec {
  const g = getIn(spec, groupPath) as Group;
  return setIn(spec, [...groupPath, "items"], [...g.items, item]);
}

/** Removes the item at groupPath.items[index]. */
export function removeItem(spec: Spec, groupPath: Path, index: number): Spec {
  const g = getIn(spec, groupPath) as Group;
  return setIn(
    spec,
    [...groupPath, "items"],
    g.items.filter((_, i) => i !== index),
  );
}

/** Moves the item at groupPath.items[index] by delta (-1 up, +1 down); no-op at the ends. */
export function moveItem(spec: Spec, groupPath: Path, index: number, delta: -1 | 1): Spec {
  const g = getIn(spec, groupPath) as Group;
  const to = index + delta;
  if (to < 0 || to >= g.items.length) return spec;
  const items = g.items.slice();
  [items[index], items[to]] = [items[to]!, items[index]!];
  return setIn(spec, [...groupPath, "items"], items);
}

// ---------------------------------------------------------------------------
// Issues -> fields
// ---------------------------------------------------------------------------

function operandAnchors(o: Operand | undefined, p: string, out: Set<string>): void {
  out.add(p);
  if (!o) return;
  out.add(`${p}.type`);
  if (o.type === "price") out.add(`${p}.field`);
  else if (o.type === "value") out.add(`${p}.value`);
  else {
    out.add(`${p}.indicator`);
    out.add(`${p}.indicator.kind`);
    for (const r of INDICATOR_PARAMS[o.indicator.kind] ?? []) out.add(`${p}.indicator.${r.name}`);
    // as the form shows them: an output select for several outputs, a source for value indicators
    if (INDICATOR_OUTPUTS[o.indicator.kind].length > 1 || o.output !== undefined) out.add(`${p}.output`);
    if (INDICATOR_INPUTS[o.indicator.kind] === "value" || o.source !== undefined) out.add(`${p}.source`);
  }
}

function groupAnchors(g: Group, p: string, out: Set<string>): void {
  out.add(p);
  out.add(`${p}.combine`);
  g.items.forEach((it, i) => {
    const ip = `${p}.items.${i}`;
    if (isGroup(it)) return groupAnchors(it, ip, out);
    out.add(ip);
    out.add(`${ip}.op`);
    if (it.op === "between") {
      operandAnchors(it.left, `${ip}.left`, out);
      operandAnchors(it.low, `${ip}.low`, out);
      operandAnchors(it.high, `${ip}.high`, out);
    } else {
      operandAnchors(it.left, `${ip}.left`, out);
      operandAnchors(it.right, `${ip}.right`, out);
    }
  });
}

/** Every path the form shows an error slot for (an input, or a block such as a condition card). */
export function specAnchors(spec: Spec): Set<string> {
  const out = new Set<string>(["name", "description"]);
  for (const s of SECTIONS) {
    out.add(s);
    const g = spec[s];
    if (g) groupAnchors(g, s, out);
  }
  for (const x of ["stopLoss", "takeProfit"] as const) {
    out.add(x);
    out.add(`${x}.type`);
    const e = spec[x];
    if (e?.type === "ticks") out.add(`${x}.ticks`);
    if (e?.type === "atr") {
      out.add(`${x}.multiple`);
      out.add(`${x}.period`);
    }
  }
  out.add("sizing");
  out.add("sizing.type");
  out.add(spec.sizing.type === "fixed" ? "sizing.contracts" : "sizing.percent");
  out.add("session");
  if (spec.session) for (const k of ["timeZone", "start", "end", "flatAtEnd"]) out.add(`session.${k}`);
  return out;
}

/**
 * Places each issue at the deepest field the form shows on its path
 * ("longEntry.items.0.right.indicator.period" -> that input; a path the form
 * has no slot for falls back to the nearest enclosing block). Issues with no
 * enclosing field at all (the root, unknown keys) are returned as unmapped.
 */
export function mapIssues(issues: readonly Issue[], spec: Spec): { byPath: Map<string, string[]>; unmapped: Issue[] } {
  const anchors = specAnchors(spec);
  const byPath = new Map<string, string[]>();
  const unmapped: Issue[] = [];
  for (const issue of issues) {
    const segs = issue.path === "" ? [] : issue.path.split(".");
    let anchor: string | null = null;
    for (let n = segs.length; n > 0; n--) {
      const k = segs.slice(0, n).join(".");
      if (anchors.has(k)) {
        anchor = k;
        break;
      }
    }
    if (anchor === null) {
      unmapped.push(issue);
      continue;
    }
    const list = byPath.get(anchor) ?? [];
    if (!list.includes(issue.message)) list.push(issue.message);
    byPath.set(anchor, list);
  }
  return { byPath, unmapped };
}

const NOT_A_NUMBER = "enter a number";

function checkNum(v: unknown, path: string, out: Issue[]): void {
  if (typeof v !== "number" || !Number.isFinite(v)) out.push({ path, message: NOT_A_NUMBER });
}

function operandLocal(o: Operand | undefined, p: string, out: Issue[]): void {
  if (!o) return;
  if (o.type === "value") checkNum(o.value, `${p}.value`, out);
  if (o.type === "indicator") for (const r of INDICATOR_PARAMS[o.indicator.kind] ?? []) checkNum(o.indicator[r.name], `${p}.indicator.${r.name}`, out);
}

function groupLocal(g: Group, p: string, out: Issue[]): void {
  g.items.forEach((it, i) => {
    const ip = `${p}.items.${i}`;
    if (isGroup(it)) return groupLocal(it, ip, out);
    for (const side of ["left", "right", "low", "high"] as const) operandLocal(it[side], `${ip}.${side}`, out);
  });
}

/**
 * Number fields left empty or unparseable (NaN in the spec), at their exact
 * paths. The server reports a bad value inside a condition only as "Invalid
 * input" on the whole condition (a zod union), so the page adds these.
 */
export function localIssues(spec: Spec): Issue[] {
  const out: Issue[] = [];
  for (const s of SECTIONS) {
    const g = spec[s];
    if (g) groupLocal(g, s, out);
  }
  for (const x of ["stopLoss", "takeProfit"] as const) {
    const e = spec[x];
    if (e?.type === "ticks") checkNum(e.ticks, `${x}.ticks`, out);
    if (e?.type === "atr") {
      checkNum(e.multiple, `${x}.multiple`, out);
      checkNum(e.period, `${x}.period`, out);
    }
  }
  if (spec.sizing.type === "fixed") checkNum(spec.sizing.contracts, "sizing.contracts", out);
  else checkNum(spec.sizing.percent, "sizing.percent", out);
  return out;
}

/**
 * Server issues plus local ones. A local issue replaces the server's on the
 * same field ("expected number, received NaN") and the server's generic union
 * error ("Invalid input") on the condition that contains it.
 */
export function mergeIssues(server: readonly Issue[], local: readonly Issue[]): Issue[] {
  const same = (p: string) => local.some((l) => l.path === p);
  const inside = (p: string) => local.some((l) => l.path.startsWith(`${p}.`));
  const out = server.filter((s) => !same(s.path) && !(s.message === "Invalid input" && s.path !== "" && inside(s.path)));
  return [...out, ...local];
}

/** A readable name for a spec path: ["longEntry","items",1,"items",0,"right"] -> "Long entry #2.1 right". */
export function humanPath(path: Path | string): string {
  const segs: Path = typeof path === "string" ? (path === "" ? [] : path.split(".").map((s) => (/^\d+$/.test(s) ? Number(s) : s))) : path;
  if (segs.length === 0) return "Spec";
  const top: Record<string, string> = {
    ...SECTION_LABELS,
    stopLoss: "Stop-loss",
    takeProfit: "Take-profit",
    sizing: "Sizing",
    session: "Session",
    name: "Name",
    description: "Description",
  };
  const words: string[] = [];
  let nums: number[] = [];
  const flush = () => {
    if (nums.length) words.push(`#${nums.join(".")}`);
    nums = [];
  };
  segs.forEach((seg, i) => {
    if (i === 0 && typeof seg === "string") return words.push(top[seg] ?? seg);
    if (seg === "items") return;
    if (typeof seg === "number" && segs[i - 1] === "items") return nums.push(seg + 1);
    flush();
    words.push(String(seg));
  });
  flush();
  return words.join(" ");
}

// ---------------------------------------------------------------------------
// Loading: any JSON -> the form's spec (or why the form cannot show it)
// ---------------------------------------------------------------------------

type R<T> = { ok: true; value: T } | { ok: false; error: string };
const fail = (path: string, msg: string): { ok: false; error: string } => ({ ok: false, error: `${path ? `${humanPath(path)}: ` : ""}${msg}` });
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const oneOf = <T extends string>(list: readonly T[], x: unknown): x is T => typeof x === "string" && (list as readonly string[]).includes(x);

/** A number field as the form holds it: null (how JSON writes NaN) is an empty field. */
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : v === null ? NaN : undefined);

function readOperand(x: unknown, p: string): R<Operand> {
  if (!isObj(x)) return fail(p, "must be an object with a type");
  if (x.type === "price") return oneOf(PRICE_FIELDS, x.field) ? { ok: true, value: { type: "price", field: x.field } } : fail(p, `field must be one of ${PRICE_FIELDS.join(", ")}`);
  if (x.type === "value") {
    const value = num(x.value);
    return value !== undefined ? { ok: true, value: { type: "value", value } } : fail(p, "value must be a number");
  }
  if (x.type === "indicator") {
    const ind = x.indicator;
    if (!isObj(ind) || !oneOf(INDICATOR_KINDS, ind.kind)) return fail(p, `indicator.kind must be one of ${INDICATOR_KINDS.join(", ")}`);
    const indicator: IndicatorRef = { kind: ind.kind };
    for (const [k, v] of Object.entries(ind)) {
      if (k === "kind") continue;
      const n = num(v);
      if (n === undefined) return fail(p, `indicator.${k} must be a number`);
      indicator[k] = n;
    }
    const value: Extract<Operand, { type: "indicator" }> = { type: "indicator", indicator };
    if (x.output !== undefined) {
      if (typeof x.output !== "string") return fail(p, "output must be a string");
      value.output = x.output;
    }
    if (x.source !== undefined) {
      if (!oneOf(SOURCES, x.source)) return fail(p, `source must be one of ${SOURCES.join(", ")}`);
      value.source = x.source;
    }
    return { ok: true, value };
  }
  return fail(p, `type must be one of ${OPERAND_TYPES.join(", ")}`);
}

function readGroup(x: unknown, p: string): R<Group> {
  if (!isObj(x)) return fail(p, "must be a group {combine, items}");
  if (x.combine !== "and" && x.combine !== "or") return fail(p, 'combine must be "and" or "or"');
  if (!Array.isArray(x.items)) return fail(p, "items must be an array");
  const items: Item[] = [];
  for (let i = 0; i < x.items.length; i++) {
    const it: unknown = x.items[i];
    const ip = `${p}.items.${i}`;
    if (isObj(it) && "combine" in it) {
      const g = readGroup(it, ip);
      if (!g.ok) return g;
      items.push(g.value);
      continue;
    }
    if (!isObj(it)) return fail(ip, "must be a condition or a group");
    if (!oneOf(OPERATORS, it.op)) return fail(ip, `op must be one of ${OPERATORS.join(", ")}`);
    const left = readOperand(it.left, `${ip}.left`);
    if (!left.ok) return left;
    const c: Condition = { left: left.value, op: it.op };
    for (const side of ["right", "low", "high"] as const) {
      if (it[side] === undefined) continue;
      const o = readOperand(it[side], `${ip}.${side}`);
      if (!o.ok) return o;
      c[side] = o.value;
    }
    items.push(c);
  }
  return { ok: true, value: { combine: x.combine, items } };
}

function readExit(x: unknown, p: string): R<Exit | undefined> {
  if (x === undefined) return { ok: true, value: undefined };
  if (!isObj(x)) return fail(p, "must be an object");
  if (x.type === "ticks") {
    const ticks = num(x.ticks);
    return ticks !== undefined ? { ok: true, value: { type: "ticks", ticks } } : fail(p, "ticks must be a number");
  }
  if (x.type === "atr") {
    const multiple = num(x.multiple);
    const period = x.period === undefined ? 14 : num(x.period);
    if (multiple === undefined || period === undefined) return fail(p, "multiple and period must be numbers");
    return { ok: true, value: { type: "atr", multiple, period } };
  }
  return fail(p, 'type must be "ticks" or "atr"');
}

/**
 * Checks that a document has the shape the form can show (types of fields,
 * known kinds) and returns it normalised: defaults filled in (as the schema
 * does), unknown keys dropped (as the schema does). Values the schema would
 * reject (e.g. period 0, empty name) pass: the server reports those.
 */
export function toFormSpec(x: unknown): R<Spec> {
  if (!isObj(x)) return fail("", "the spec must be a JSON object");
  if (x.schema !== undefined && x.schema !== 1) return fail("", "schema: only version 1 is supported");
  if (x.name !== undefined && typeof x.name !== "string") return fail("name", "must be a string");
  if (x.description !== undefined && typeof x.description !== "string") return fail("description", "must be a string");
  const spec: Spec = { schema: 1, name: (x.name as string | undefined) ?? "", description: (x.description as string | undefined) ?? "", sizing: { type: "fixed", contracts: 1 } };
  for (const s of SECTIONS) {
    if (x[s] === undefined) continue;
    const g = readGroup(x[s], s);
    if (!g.ok) return g;
    spec[s] = g.value;
  }
  for (const e of ["stopLoss", "takeProfit"] as const) {
    const r = readExit(x[e], e);
    if (!r.ok) return r;
    if (r.value) spec[e] = r.value;
  }
  if (x.sizing !== undefined) {
    const z = x.sizing;
    const n = isObj(z) ? num(z.type === "fixed" ? z.contracts : z.percent) : undefined;
    if (isObj(z) && z.type === "fixed" && n !== undefined) spec.sizing = { type: "fixed", contracts: n };
    else if (isObj(z) && z.type === "risk_pct" && n !== undefined) spec.sizing = { type: "risk_pct", percent: n };
    else return fail("sizing", 'must be {type:"fixed", contracts} or {type:"risk_pct", percent}');
  }
  if (x.session !== undefined) {
    const z = x.session;
    if (!isObj(z)) return fail("session", "must be an object");
    const timeZone = z.timeZone ?? "America/New_York";
    const flatAtEnd = z.flatAtEnd ?? true;
    if (typeof timeZone !== "string" || typeof z.start !== "string" || typeof z.end !== "string" || typeof flatAtEnd !== "boolean") {
      return fail("session", "timeZone, start and end must be strings, flatAtEnd true or false");
    }
    spec.session = { timeZone, start: z.start, end: z.end, flatAtEnd };
  }
  return { ok: true, value: spec };
}

export function parseJson(text: string): R<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** JSON with object keys sorted: equal documents give equal keys whatever their key order. NaN -> null, as JSON. */
export function stableKey(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (isObj(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));
}

export const strategyId = (name: string, version: number): string => `builder:${name}@${version}`;

// ---------------------------------------------------------------------------
// Backtest targets
// ---------------------------------------------------------------------------

/**
 * Timeframes a symbol can be backtested at: each stored bar series, and each
 * coarser timeframe that the finest dividing stored series resamples to (as
 * engine/store/stored-bars does). `from` is the stored timeframe used.
 */
export function runnableTimeframes(series: readonly { timeframe: string; kind: string; count: number }[]): { timeframe: Timeframe; from: Timeframe }[] {
  const stored = TIMEFRAMES.filter((tf) => series.some((s) => s.kind === "bars" && s.count > 0 && s.timeframe === tf));
  const out: { timeframe: Timeframe; from: Timeframe }[] = [];
  for (const tf of TIMEFRAMES) {
    if (stored.includes(tf)) {
      out.push({ timeframe: tf, from: tf });
      continue;
    }
    const src = stored.filter((s) => TIMEFRAME_MS[s] < TIMEFRAME_MS[tf] && TIMEFRAME_MS[tf] % TIMEFRAME_MS[s] === 0).sort((a, b) => TIMEFRAME_MS[b] - TIMEFRAME_MS[a])[0];
    if (src) out.push({ timeframe: tf, from: src });
  }
  return out;
}
