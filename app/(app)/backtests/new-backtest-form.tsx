"use client";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { fmtInt, fmtTs } from "@/app/(app)/markets/format";
import { TIMEFRAMES, TIMEFRAME_MS, type Timeframe } from "@/engine/data/types";
import { errorsFromServer, type FormField, type ServerErrorLike } from "./form-errors";
import { fmtPlain } from "./report-model";
import type { BuiltinStrategy, InstrumentWithSeries, ParamDefView } from "./types";
import { Field, Section, inputCls } from "./ui";

type CommissionKind = "default" | "none" | "per_contract" | "percent" | "per_fill";

interface FormValues {
  symbol: string;
  timeframe: Timeframe | "";
  strategy: string;
  params: Record<string, string | boolean>;
  size: string;
  cash: string;
  commissionKind: CommissionKind;
  commissionValue: string;
  slippageTicks: string;
  sameBarPolicy: "stop_first" | "target_first";
  from: string;
  to: string;
}

type Errors = Partial<Record<FormField, string>>;

interface FrameOption {
  tf: Timeframe;
  /** The stored series the bars come from (the same timeframe, or a finer one resampled). */
  source: { timeframe: string; count: number; first: number | null; last: number | null };
  resampled: boolean;
}

/** Timeframes a backtest can use for an instrument: its stored bar series, and coarser ones the engine resamples from them. */
export function frameOptions(inst: InstrumentWithSeries | undefined): FrameOption[] {
  if (!inst) return [];
  const stored = inst.series.filter((s) => s.kind === "bars" && s.count > 0 && (TIMEFRAMES as readonly string[]).includes(s.timeframe));
  const out: FrameOption[] = [];
  for (const tf of TIMEFRAMES) {
    const same = stored.find((s) => s.timeframe === tf);
    const finer = stored
      .filter((s) => TIMEFRAME_MS[s.timeframe as Timeframe] < TIMEFRAME_MS[tf] && TIMEFRAME_MS[tf] % TIMEFRAME_MS[s.timeframe as Timeframe] === 0)
      .sort((a, b) => TIMEFRAME_MS[b.timeframe as Timeframe] - TIMEFRAME_MS[a.timeframe as Timeframe])[0];
    const src = same ?? finer;
    if (src) out.push({ tf, source: { timeframe: src.timeframe, count: src.count, first: src.first, last: src.last }, resampled: !same });
  }
  return out;
}

const hasBars = (i: InstrumentWithSeries) => i.series.some((s) => s.kind === "bars" && s.count > 0 && (TIMEFRAMES as readonly string[]).includes(s.timeframe));
/** Parameters the runner sets by itself (e.g. the ORB's bar size) are not offered. */
const runnerSet = (d: ParamDefView) => /set by the runner/i.test(d.description);
const shownParams = (s: BuiltinStrategy | undefined) => (s ? s.params.filter((d) => d.name !== "size" && !runnerSet(d)) : []);

function defaultsOf(s: BuiltinStrategy | undefined): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const d of shownParams(s)) out[d.name] = d.type === "bool" ? Boolean(d.default) : String(d.default);
  return out;
}

function parseNum(s: string): number | null {
  const t = s.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

const dayStart = (d: string) => Date.parse(`${d}T00:00:00Z`);

type RunInput = Parameters<ReturnType<typeof trpc.backtest.run.useMutation>["mutate"]>[0];

/** Form values to backtest.run input, or the fields that are not even numbers. */
function buildInput(v: FormValues, builtin: BuiltinStrategy | undefined): { input: RunInput } | { errors: Errors } {
  const errors: Errors = {};
  if (!v.symbol) errors.symbol = "Pick a symbol.";
  if (!v.timeframe) errors.timeframe = "Pick a timeframe.";
  if (!v.strategy) errors.strategy = "Pick a strategy.";
  const cash = parseNum(v.cash);
  if (cash === null) errors.cash = "cash: enter a number, e.g. 100000.";
  const size = builtin ? parseNum(v.size) : null;
  if (builtin && v.size.trim() !== "" && size === null) errors.size = "size: enter a number of contracts.";
  const slip = v.slippageTicks.trim() === "" ? 0 : parseNum(v.slippageTicks);
  if (slip === null) errors.slippageTicks = "slippage: enter a number of ticks (0 for none).";
  let commission: RunInput["commission"];
  if (v.commissionKind !== "default" && v.commissionKind !== "none") {
    const x = parseNum(v.commissionValue);
    if (x === null) errors.commission = "commission: enter a number.";
    else commission = v.commissionKind === "percent" ? { kind: "percent", percent: x } : { kind: v.commissionKind, amount: x };
  } else if (v.commissionKind === "none") commission = { kind: "none" };
  const from = v.from ? dayStart(v.from) : undefined;
  const to = v.to ? dayStart(v.to) + 86_400_000 - 1 : undefined; // the whole "to" day
  if (from !== undefined && !Number.isFinite(from)) errors.from = "from: not a date.";
  if (to !== undefined && !Number.isFinite(to)) errors.to = "to: not a date.";
  if (Object.keys(errors).length) return { errors };

  const params: Record<string, string | number | boolean> = {};
  for (const d of shownParams(builtin)) {
    const raw = v.params[d.name];
    if (raw === undefined) continue;
    if (d.type === "bool") params[d.name] = Boolean(raw);
    else if (d.type === "int" || d.type === "number") {
      // anything that is not a number goes as typed: the engine names the parameter in its answer
      const n = parseNum(String(raw));
      params[d.name] = n ?? String(raw);
    } else params[d.name] = String(raw);
  }
  return {
    input: {
      symbol: v.symbol,
      timeframe: v.timeframe as Timeframe,
      strategy: v.strategy,
      params,
      ...(size !== null ? { size } : {}),
      cash: cash!,
      ...(commission ? { commission } : {}),
      slippageTicks: slip!,
      sameBarPolicy: v.sameBarPolicy,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
    },
  };
}

export function NewBacktestForm({ busy, canRun, onStarted }: { busy: boolean; canRun: boolean; onStarted: (runId: string) => void }) {
  const instruments = trpc.market.instruments.useQuery();
  const strategies = trpc.backtest.strategies.useQuery();
  // registered RL models (trading ones can be backtested); the form works without them
  const models = trpc.backtest.models.useQuery();
  const run = trpc.backtest.run.useMutation();
  const tradingModels = useMemo(() => (models.data ?? []).filter((m) => m.env === "trading"), [models.data]);

  const withData = useMemo(() => (instruments.data ?? []).filter(hasBars), [instruments.data]);
  const [v, setV] = useState<FormValues>({
    symbol: "",
    timeframe: "",
    strategy: "",
    params: {},
    size: "",
    cash: "100000",
    commissionKind: "default",
    commissionValue: "",
    slippageTicks: "0",
    sameBarPolicy: "stop_first",
    from: "",
    to: "",
  });
  const [errors, setErrors] = useState<Errors>({});

  const inst = withData.find((i) => i.symbol === v.symbol);
  const frames = useMemo(() => frameOptions(inst), [inst]);
  const frame = frames.find((f) => f.tf === v.timeframe);
  const builtin = strategies.data?.builtin.find((s) => s.id === v.strategy);
  const isBuilder = v.strategy.startsWith("builder:");
  const model = v.strategy.startsWith("model:") ? tradingModels.find((m) => `model:${m.id}` === v.strategy) : undefined;
  const params = shownParams(builtin);
  const paramNames = builtin?.params.map((d) => d.name) ?? [];

  // Defaults once the lists arrive: the first symbol with bars at its finest stored timeframe, the first built-in strategy.
  useEffect(() => {
    if (v.symbol || withData.length === 0) return;
    const first = withData[0]!;
    const f = frameOptions(first).find((o) => !o.resampled);
    setV((p) => ({ ...p, symbol: first.symbol, timeframe: f?.tf ?? "" }));
  }, [withData, v.symbol]);
  useEffect(() => {
    if (v.strategy || !strategies.data?.builtin.length) return;
    const s = strategies.data.builtin[0]!;
    setV((p) => ({ ...p, strategy: s.id, params: defaultsOf(s), size: String(s.params.find((d) => d.name === "size")?.default ?? "") }));
  }, [strategies.data, v.strategy]);

  const set = <K extends keyof FormValues>(k: K, value: FormValues[K], clear: FormField = k as FormField) => {
    setV((p) => ({ ...p, [k]: value }));
    setErrors((e) => {
      if (!e[clear] && !e.form) return e;
      const { [clear]: _gone, form: _form, ...rest } = e;
      return rest;
    });
  };

  const pickSymbol = (symbol: string) => {
    const opts = frameOptions(withData.find((i) => i.symbol === symbol));
    const keep = opts.some((o) => o.tf === v.timeframe);
    setV((p) => ({ ...p, symbol, timeframe: keep ? p.timeframe : (opts.find((o) => !o.resampled)?.tf ?? "") }));
    setErrors({});
  };
  const pickStrategy = (id: string) => {
    const s = strategies.data?.builtin.find((x) => x.id === id);
    setV((p) => ({ ...p, strategy: id, params: defaultsOf(s), size: s ? String(s.params.find((d) => d.name === "size")?.default ?? p.size) : p.size }));
    setErrors({});
  };

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const built = buildInput(v, builtin);
    if ("errors" in built) return setErrors(built.errors);
    setErrors({});
    run.mutate(built.input, {
      onSuccess: (r) => onStarted(r.runId),
      onError: (err) => setErrors(errorsFromServer({ message: err.message, data: err.data as ServerErrorLike["data"] }, paramNames)),
    });
  };

  const err = (f: FormField) => errors[f];
  const aria = (id: string, f: FormField) => ({ id, "aria-invalid": err(f) ? true : undefined, "aria-describedby": err(f) ? `${id}-error` : undefined });
  const errorList = Object.entries(errors).filter((x): x is [FormField, string] => typeof x[1] === "string");

  if (instruments.isLoading || strategies.isLoading) {
    return (
      <Section title="New backtest" testId="backtest-form">
        <p className="p-4 text-sm text-dim">Loading instruments and strategies…</p>
      </Section>
    );
  }
  if (instruments.error || strategies.error) {
    return (
      <Section title="New backtest" testId="backtest-form">
        <p role="alert" className="p-4 text-sm text-bad">{instruments.error?.message ?? strategies.error?.message}</p>
      </Section>
    );
  }
  if (withData.length === 0) {
    return (
      <Section title="New backtest" testId="backtest-form">
        <div className="space-y-2 p-4 text-sm" data-testid="no-series">
          <p>No bar series is stored on this installation yet, so there is nothing to backtest.</p>
          <p className="text-dim">
            Import a CSV of bars on{" "}
            <Link href="/markets" className="text-accent underline">
              Markets
            </Link>{" "}
            (a symbol, a timeframe and a file); it then shows up here.
          </p>
        </div>
      </Section>
    );
  }

  const currency = inst?.currency ?? "";
  const instDefault = inst ? (inst.commissionType === "percent" ? `${fmtPlain(inst.commission)}% of notional per fill` : `${fmtPlain(inst.commission)} ${currency} per contract per fill`) : "";
  const daily = v.timeframe === "1d";

  return (
    <Section title="New backtest" testId="backtest-form">
      <form onSubmit={submit} noValidate className="space-y-5 p-4">
        <fieldset className="min-w-0">
          <legend className="mb-2 text-[11px] uppercase tracking-wide text-dim">Data</legend>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
            <Field label="Symbol" id="bt-symbol" error={err("symbol")}>
              <select {...aria("bt-symbol", "symbol")} className={inputCls(!!err("symbol"))} value={v.symbol} onChange={(e) => pickSymbol(e.target.value)}>
                {withData.map((i) => (
                  <option key={i.symbol} value={i.symbol}>
                    {i.symbol} · {i.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field
              label="Timeframe"
              id="bt-timeframe"
              error={err("timeframe")}
              hint={frame ? `${frame.resampled ? `resampled from the stored ${frame.source.timeframe} series · ` : ""}${fmtInt(frame.source.count)} stored ${frame.source.timeframe} bars` : undefined}
            >
              <select {...aria("bt-timeframe", "timeframe")} className={inputCls(!!err("timeframe"))} value={v.timeframe} onChange={(e) => set("timeframe", e.target.value as Timeframe)}>
                {frames.map((f) => (
                  <option key={f.tf} value={f.tf}>
                    {f.tf}
                    {f.resampled ? ` (from ${f.source.timeframe})` : ""}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="From (UTC date, optional)" id="bt-from" error={err("from")} hint={frame ? `data starts ${fmtTs(frame.source.first, true)}` : undefined}>
              <input {...aria("bt-from", "from")} type="date" className={inputCls(!!err("from"))} value={v.from} onChange={(e) => set("from", e.target.value)} />
            </Field>
            <Field label="To (UTC date, optional)" id="bt-to" error={err("to")} hint={frame ? `data ends ${fmtTs(frame.source.last, true)}` : undefined}>
              <input {...aria("bt-to", "to")} type="date" className={inputCls(!!err("to"))} value={v.to} onChange={(e) => set("to", e.target.value)} />
            </Field>
          </div>
        </fieldset>

        <fieldset className="min-w-0">
          <legend className="mb-2 text-[11px] uppercase tracking-wide text-dim">Strategy</legend>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
            <Field label="Strategy" id="bt-strategy" error={err("strategy")} className="sm:col-span-2">
              <select {...aria("bt-strategy", "strategy")} className={inputCls(!!err("strategy"))} value={v.strategy} onChange={(e) => pickStrategy(e.target.value)}>
                <optgroup label="Built-in">
                  {strategies.data?.builtin.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name} ({s.id})
                    </option>
                  ))}
                </optgroup>
                {strategies.data?.builder.length ? (
                  <optgroup label="Strategy Builder">
                    {strategies.data.builder.map((b) => (
                      <option key={b.name} value={`builder:${b.name}`}>
                        {b.name} (v{b.version})
                      </option>
                    ))}
                  </optgroup>
                ) : null}
                {tradingModels.length ? (
                  <optgroup label="RL models">
                    {tradingModels.map((m) => (
                      <option key={m.id} value={`model:${m.id}`}>
                        {m.name} ({m.algo.toUpperCase()}
                        {m.symbol ? ` · ${m.symbol}${m.timeframe ? ` ${m.timeframe}` : ""}` : ""})
                      </option>
                    ))}
                  </optgroup>
                ) : null}
              </select>
            </Field>
            <p className="self-end text-xs text-dim sm:col-span-2" data-testid="strategy-description">
              {builtin?.description ??
                (isBuilder
                  ? "A saved Strategy Builder strategy (its latest version). Its rules, stops and sizing come from the spec; edit it in the Strategy Builder."
                  : model
                    ? `A trained ${model.algo.toUpperCase()} policy from the model registry${model.symbol ? `, trained on ${model.symbol}${model.timeframe ? ` ${model.timeframe}` : ""}` : ""}. It decides at each bar's close from its features (computed from the whole stored series, past bars only) and trades the contract size it was trained with; no parameters.`
                    : "")}
            </p>
            {params.map((d) => (
              <ParamInput key={d.name} def={d} value={v.params[d.name]} error={err(`params.${d.name}`)} onChange={(x) => set("params", { ...v.params, [d.name]: x }, `params.${d.name}`)} />
            ))}
          </div>
          {builtin?.params.some(runnerSet) ? <p className="mt-2 text-[11px] text-dim">The bar size is taken from the timeframe.</p> : null}
        </fieldset>

        <fieldset className="min-w-0">
          <legend className="mb-2 text-[11px] uppercase tracking-wide text-dim">Size and costs</legend>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
            {builtin ? (
              <Field label="Size (contracts per entry)" id="bt-size" error={err("size")}>
                <input {...aria("bt-size", "size")} inputMode="decimal" className={inputCls(!!err("size"))} value={v.size} onChange={(e) => set("size", e.target.value)} />
              </Field>
            ) : null}
            <Field label={`Starting cash${currency ? ` (${currency})` : ""}`} id="bt-cash" error={err("cash")}>
              <input {...aria("bt-cash", "cash")} inputMode="decimal" className={inputCls(!!err("cash"))} value={v.cash} onChange={(e) => set("cash", e.target.value)} />
            </Field>
            <Field label="Commission" id="bt-commission" error={err("commission")} hint={v.commissionKind === "default" && inst ? `${inst.symbol}: ${instDefault}` : undefined}>
              <div className="flex gap-1">
                <select
                  {...aria("bt-commission", "commission")}
                  className={inputCls(!!err("commission"))}
                  value={v.commissionKind}
                  onChange={(e) => set("commissionKind", e.target.value as CommissionKind, "commission")}
                >
                  <option value="default">instrument default</option>
                  <option value="per_contract">per contract per fill</option>
                  <option value="percent">% of notional</option>
                  <option value="per_fill">flat per fill</option>
                  <option value="none">none</option>
                </select>
                {v.commissionKind !== "default" && v.commissionKind !== "none" ? (
                  <input
                    aria-label={v.commissionKind === "percent" ? "Commission percent" : `Commission amount${currency ? ` (${currency})` : ""}`}
                    inputMode="decimal"
                    placeholder={v.commissionKind === "percent" ? "%" : currency || "amount"}
                    className={`${inputCls(!!err("commission"))} max-w-28`}
                    value={v.commissionValue}
                    onChange={(e) => set("commissionValue", e.target.value, "commission")}
                  />
                ) : null}
              </div>
            </Field>
            <Field label="Slippage (ticks)" id="bt-slippage" error={err("slippageTicks")} hint={inst ? (inst.tickSize > 0 ? `1 tick = ${fmtPlain(inst.tickSize)}; on market and stop fills` : `${inst.symbol} has no tick grid`) : undefined}>
              <input {...aria("bt-slippage", "slippageTicks")} inputMode="decimal" className={inputCls(!!err("slippageTicks"))} value={v.slippageTicks} onChange={(e) => set("slippageTicks", e.target.value)} />
            </Field>
            <Field label="Same-bar stop and target" id="bt-samebar" error={err("sameBarPolicy")} hint="which fills first when one bar touches both">
              <select {...aria("bt-samebar", "sameBarPolicy")} className={inputCls(!!err("sameBarPolicy"))} value={v.sameBarPolicy} onChange={(e) => set("sameBarPolicy", e.target.value as FormValues["sameBarPolicy"])}>
                <option value="stop_first">stop first (conservative)</option>
                <option value="target_first">target first</option>
              </select>
            </Field>
          </div>
        </fieldset>

        {errorList.length ? (
          <div role="alert" data-testid="backtest-errors" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
            {errors.form && errorList.length === 1 ? null : <p className="mb-1 text-xs">The backtest was not started:</p>}
            <ul className="space-y-0.5">
              {errorList.map(([f, msg]) => (
                <li key={f} className="break-words">
                  {f !== "form" ? <span className="num text-xs">{f} · </span> : null}
                  {msg}
                </li>
              ))}
            </ul>
          </div>
        ) : null}

        <div className="flex flex-wrap items-center gap-3">
          <button type="submit" disabled={!canRun || busy || run.isPending} className="rounded-sm bg-accent px-4 py-2 text-sm font-medium text-bg disabled:opacity-50">
            {run.isPending ? "Starting…" : "Run backtest"}
          </button>
          {!canRun ? <span className="text-xs text-warn">Starting a backtest needs the trader role; you can open the reports below.</span> : null}
          {canRun && busy ? <span className="text-xs text-dim">A backtest is running; wait for it or cancel it.</span> : null}
          {canRun && !busy ? (
            <span className="num text-[11px] text-dim">
              {v.symbol} {v.timeframe}
              {v.from || v.to ? ` · ${v.from || "start"} → ${v.to || "end"}` : ""}
              {daily ? "" : " · times UTC"}
            </span>
          ) : null}
        </div>
      </form>
    </Section>
  );
}

function ParamInput({ def, value, error, onChange }: { def: ParamDefView; value: string | boolean | undefined; error?: string; onChange: (v: string | boolean) => void }) {
  const id = `bt-param-${def.name}`;
  const invalid = !!error;
  const aria = { id, "aria-invalid": invalid ? true : undefined, "aria-describedby": invalid ? `${id}-error` : undefined };
  const range = def.min !== undefined || def.max !== undefined ? ` (${def.min ?? "…"} to ${def.max ?? "…"})` : "";
  let control: React.ReactNode;
  switch (def.type) {
    case "bool":
      control = (
        <label className="flex h-[34px] items-center gap-2 text-sm">
          <input {...aria} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          <span className="text-dim">{value === true ? "yes" : "no"}</span>
        </label>
      );
      break;
    case "enum":
      control = (
        <select {...aria} className={inputCls(invalid)} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)}>
          {(def.options ?? []).map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
      break;
    case "time":
      control = <input {...aria} type="time" className={inputCls(invalid)} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)} />;
      break;
    default:
      control = (
        <input
          {...aria}
          type="number"
          inputMode={def.type === "int" ? "numeric" : "decimal"}
          step={def.type === "int" ? 1 : "any"}
          min={def.min}
          max={def.max}
          className={inputCls(invalid)}
          value={String(value ?? "")}
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }
  return (
    <Field label={def.name} id={id} error={error} hint={`${def.description}${def.type === "int" || def.type === "number" ? range : ""}${def.type === "time" ? " (HH:MM)" : ""}`}>
      {control}
    </Field>
  );
}
