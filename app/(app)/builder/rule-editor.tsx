"use client";
import type { IndicatorKind } from "@/engine/core/indicators";
import { FieldErrors, NumberField, SelectField, btnCls, useEditor } from "./fields";
import {
  INDICATOR_KINDS,
  OPERATORS,
  OP_LABELS,
  PRICE_FIELDS,
  SECTION_LABELS,
  SOURCES,
  appendItem,
  defaultCondition,
  getIn,
  hasSource,
  humanPath,
  isGroup,
  moveItem,
  newGroup,
  operandOfType,
  outputsOf,
  paramsOf,
  pathKey,
  removeItem,
  withIndicatorKind,
  withOp,
  type Condition,
  type Group,
  type Operand,
  type OperandType,
  type Path,
  type Section,
} from "./spec-edit";

const KIND_LABELS: Record<IndicatorKind, string> = {
  sma: "SMA",
  ema: "EMA",
  wma: "WMA",
  rsi: "RSI",
  macd: "MACD",
  bollinger: "Bollinger",
  atr: "ATR",
  stochastic: "Stochastic",
  vwap: "VWAP",
  adx: "ADX",
  obv: "OBV",
  donchian: "Donchian",
};
const PARAM_LABELS: Record<string, string> = { kSmoothing: "K smoothing", dPeriod: "D period", k: "k (std devs)" };
const TYPE_OPTIONS: { value: OperandType; label: string }[] = [
  { value: "price", label: "Price" },
  { value: "indicator", label: "Indicator" },
  { value: "value", label: "Number" },
];
const SECTION_HINTS: Record<Section, string> = {
  longEntry: "No long entries.",
  shortEntry: "No short entries.",
  longExit: "Longs exit only by stop-loss, take-profit or the session end.",
  shortExit: "Shorts exit only by stop-loss, take-profit or the session end.",
};

const smallBtn = `${btnCls} min-h-8 min-w-8`;
const removeBtn = "min-h-8 min-w-8 rounded-sm border border-line px-2 py-1 text-xs text-dim hover:border-bad hover:text-bad";

/** One of the four rule sections: absent, or a root AND/OR group. */
export function SectionEditor({ section }: { section: Section }) {
  const { spec, set } = useEditor();
  const g = spec[section];
  const label = SECTION_LABELS[section];
  return (
    <section className="border border-line bg-panel" data-testid={`section-${section}`} aria-labelledby={`h-${section}`}>
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-line px-3 py-2">
        <h2 id={`h-${section}`} className="text-sm font-semibold">
          {label}
        </h2>
        {g ? (
          <button type="button" className={removeBtn} onClick={() => set([section], undefined)} aria-label={`Remove all ${label.toLowerCase()} rules`}>
            Remove rules
          </button>
        ) : null}
      </div>
      <div className="space-y-2 p-3">
        <FieldErrors path={[section]} />
        {g ? (
          <GroupEditor path={[section]} group={g} depth={0} />
        ) : (
          <div className="flex flex-wrap items-center gap-3">
            <p className="text-xs text-dim">{SECTION_HINTS[section]}</p>
            <button type="button" className={smallBtn} onClick={() => set([section], newGroup("and"))}>
              + Add {label.toLowerCase()} rules
            </button>
          </div>
        )}
      </div>
    </section>
  );
}

interface Placement {
  parent: Path;
  index: number;
  count: number;
}

function MoveRemove({ at, what }: { at: Placement; what: string }) {
  const { update } = useEditor();
  return (
    <span className="flex shrink-0 gap-1">
      <button type="button" className={smallBtn} disabled={at.index === 0} aria-label={`Move ${what} up`} onClick={() => update((s) => moveItem(s, at.parent, at.index, -1))}>
        ↑
      </button>
      <button type="button" className={smallBtn} disabled={at.index === at.count - 1} aria-label={`Move ${what} down`} onClick={() => update((s) => moveItem(s, at.parent, at.index, 1))}>
        ↓
      </button>
      <button type="button" className={removeBtn} aria-label={`Remove ${what}`} onClick={() => update((s) => removeItem(s, at.parent, at.index))}>
        ✕
      </button>
    </span>
  );
}

export function GroupEditor({ path, group, depth, at }: { path: Path; group: Group; depth: number; at?: Placement }) {
  const { set, update } = useEditor();
  const name = humanPath(path);
  const other = group.combine === "and" ? "or" : "and";
  return (
    <div className={depth > 0 ? "border-l-2 border-info/50 bg-panel-2/40 py-2 pl-2 pr-1 sm:pl-3" : ""} data-testid={`group-${pathKey(path)}`}>
      <div className="mb-2 flex flex-wrap items-center gap-2">
        <div role="group" aria-label={`${name} combine`} className="flex">
          {(["and", "or"] as const).map((c) => (
            <button
              key={c}
              type="button"
              aria-pressed={group.combine === c}
              onClick={() => set([...path, "combine"], c)}
              className={`num -ml-px min-h-8 border border-line px-2.5 py-1 text-xs uppercase first:ml-0 ${group.combine === c ? "bg-accent text-bg" : "text-dim hover:text-fg"}`}
            >
              {c}
            </button>
          ))}
        </div>
        <span className="text-xs text-dim">{group.combine === "and" ? "all of these" : "any of these"}</span>
        {at ? (
          <span className="ml-auto">
            <MoveRemove at={at} what={`group ${name}`} />
          </span>
        ) : null}
      </div>
      {depth > 0 ? <FieldErrors path={path} /> : null}
      <FieldErrors path={[...path, "combine"]} />
      <ol className="space-y-1">
        {group.items.map((it, i) => {
          const ip = [...path, "items", i];
          const place = { parent: path, index: i, count: group.items.length };
          return (
            <li key={i}>
              {i > 0 ? <div className="num py-0.5 pl-1 text-[11px] uppercase tracking-widest text-info">{group.combine}</div> : null}
              {isGroup(it) ? <GroupEditor path={ip} group={it} depth={depth + 1} at={place} /> : <ConditionCard path={ip} cond={it} at={place} />}
            </li>
          );
        })}
      </ol>
      {group.items.length === 0 ? <p className="text-xs text-warn">Empty group: add a condition.</p> : null}
      <div className="mt-2 flex flex-wrap gap-2">
        <button type="button" className={smallBtn} onClick={() => update((s) => appendItem(s, path, defaultCondition()))} aria-label={`Add a condition to ${name}`}>
          + Condition
        </button>
        <button type="button" className={smallBtn} onClick={() => update((s) => appendItem(s, path, newGroup(other)))} aria-label={`Add a nested ${other.toUpperCase()} group to ${name}`}>
          + {other.toUpperCase()} group
        </button>
      </div>
    </div>
  );
}

/** A condition: left operand, operator, right operand (or low and high). A card whose parts stack on a phone. */
export function ConditionCard({ path, cond, at }: { path: Path; cond: Condition; at: Placement }) {
  const { set } = useEditor();
  const name = humanPath(path);
  const between = cond.op === "between";
  return (
    <div className="border border-line bg-bg p-2 sm:p-3" data-testid={`condition-${pathKey(path)}`}>
      <div className="mb-2 flex items-center justify-between gap-2">
        <span className="num truncate text-[11px] text-dim">{name}</span>
        <MoveRemove at={at} what={`condition ${name}`} />
      </div>
      <FieldErrors path={path} />
      <div className="grid gap-2 lg:grid-cols-[minmax(0,1fr)_10rem_minmax(0,1fr)] lg:items-start">
        <OperandEditor path={[...path, "left"]} label="Left" />
        <SelectField path={[...path, "op"]} label="Operator" value={cond.op} options={OPERATORS.map((o) => ({ value: o, label: OP_LABELS[o] }))} onChange={(op) => set(path, withOp(cond, op))} />
        {between ? (
          <div className="grid min-w-0 gap-2">
            <OperandEditor path={[...path, "low"]} label="Low (≥)" />
            <OperandEditor path={[...path, "high"]} label="High (≤)" />
          </div>
        ) : (
          <OperandEditor path={[...path, "right"]} label="Right" />
        )}
      </div>
    </div>
  );
}

export function OperandEditor({ path, label }: { path: Path; label: string }) {
  const { spec, set } = useEditor();
  const o = getIn(spec, path) as Operand | undefined;
  return (
    <fieldset className="min-w-0 border border-line/70 px-2 pb-2" data-testid={`operand-${pathKey(path)}`}>
      <legend className="px-1 text-[11px] uppercase tracking-wide text-dim">{label}</legend>
      <FieldErrors path={path} />
      {!o ? (
        <button type="button" className={smallBtn} onClick={() => set(path, operandOfType("value"))}>
          Set {label.toLowerCase()}
        </button>
      ) : (
        <div className="grid grid-cols-2 gap-2">
          <SelectField path={[...path, "type"]} label="Type" value={o.type} options={TYPE_OPTIONS} onChange={(t) => set(path, operandOfType(t, o))} />
          {o.type === "price" ? <SelectField path={[...path, "field"]} label="Field" value={o.field} options={PRICE_FIELDS} mono onChange={(f) => set([...path, "field"], f)} /> : null}
          {o.type === "value" ? <NumberField path={[...path, "value"]} label="Value" /> : null}
          {o.type === "indicator" ? <IndicatorFields path={path} o={o} /> : null}
        </div>
      )}
    </fieldset>
  );
}

function IndicatorFields({ path, o }: { path: Path; o: Extract<Operand, { type: "indicator" }> }) {
  const { set } = useEditor();
  const kind = o.indicator.kind;
  const outputs = outputsOf(kind);
  return (
    <>
      <SelectField
        path={[...path, "indicator", "kind"]}
        label="Indicator"
        value={kind}
        options={INDICATOR_KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] }))}
        onChange={(k) => set(path, withIndicatorKind(o, k))}
      />
      {paramsOf(kind).map((p) => (
        <NumberField key={p.name} path={[...path, "indicator", p.name]} label={PARAM_LABELS[p.name] ?? p.name} step={p.type === "int" ? "int" : "any"} />
      ))}
      {outputs.length > 1 || o.output !== undefined ? (
        <SelectField
          path={[...path, "output"]}
          label="Output"
          value={o.output ?? outputs[0]!}
          options={outputs.includes(o.output ?? outputs[0]!) ? outputs : [...outputs, o.output!]}
          mono
          onChange={(v) => set([...path, "output"], v === outputs[0] ? undefined : v)}
        />
      ) : null}
      {hasSource(kind) || o.source !== undefined ? (
        <SelectField path={[...path, "source"]} label="Source" value={o.source ?? "close"} options={SOURCES} mono onChange={(v) => set([...path, "source"], v === "close" ? undefined : v)} />
      ) : null}
      <div className="col-span-2 empty:hidden">
        <FieldErrors path={[...path, "indicator"]} />
      </div>
    </>
  );
}
