"use client";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { fmtInt, fmtTs } from "@/app/(app)/markets/format";
import { frameOptions } from "@/app/(app)/backtests/new-backtest-form";
import { fmtPlain } from "@/app/(app)/backtests/report-model";
import type { ServerErrorLike } from "@/app/(app)/backtests/form-errors";
import type { BuiltinStrategy, InstrumentWithSeries } from "@/app/(app)/backtests/types";
import { Field, Section, inputCls } from "@/app/(app)/backtests/ui";
import { TIMEFRAMES, type Timeframe } from "@/engine/data/types";
import {
  type CommissionKind,
  DIM_LIMIT,
  GRID_LIMIT,
  KIND_LABEL,
  OBJECTIVES,
  OBJECTIVE_INFO,
  type GeneticKey,
  type ObjectiveId,
  type OptErrors,
  type OptField,
  type OptimizeFormValues,
  type OptimizeKind,
  type ParamDefLike,
  type ParamSpecForm,
  type SpecMode,
  buildJob,
  defaultSpecs,
  gridSize,
  initialFormValues,
  isNumericDef,
  isPickDef,
  optErrorsFromServer,
  plannedTrials,
  runnerSet,
  spaceParams,
} from "./model";

const hasBars = (i: InstrumentWithSeries) => i.series.some((s) => s.kind === "bars" && s.count > 0 && (TIMEFRAMES as readonly string[]).includes(s.timeframe));
const legend = "mb-2 text-[11px] uppercase tracking-wide text-dim";

const GENETIC_FIELDS: { key: GeneticKey; label: string; hint: string }[] = [
  { key: "population", label: "Population", hint: "parameter sets per generation (4 to 500)" },
  { key: "generations", label: "Generations", hint: "after the initial population (0 to 500)" },
  { key: "mutationRate", label: "Mutation rate", hint: "chance each parameter mutates (0 to 1)" },
  { key: "crossoverRate", label: "Crossover rate", hint: "chance two parents mix (0 to 1)" },
  { key: "elite", label: "Elite (optional)", hint: "survivor slots open to parents; blank = a quarter of the population" },
  { key: "seed", label: "Seed", hint: "the same seed gives the same run" },
];

/**
 * The job form: stored series, a built-in strategy, per parameter a range, a
 * list or a fixed value (enums and booleans: the values to try), the method
 * with its settings, the objective, cash and costs. The grid size updates as
 * you type. `failure` is the message of the optimisation this form started
 * when it failed as it began (a bad space, a clashing parameter): it is
 * shown next to the field it names.
 */
export function OptimizeForm({ busy, canRun, onStarted, failure }: { busy: boolean; canRun: boolean; onStarted: (id: string, title: string, objective: string, kind: OptimizeKind) => void; failure: { id: string; message: string } | null }) {
  const instruments = trpc.market.instruments.useQuery();
  const strategies = trpc.backtest.strategies.useQuery();
  const optimize = trpc.backtest.optimize.useMutation();

  const withData = useMemo(() => (instruments.data ?? []).filter(hasBars), [instruments.data]);
  const [v, setV] = useState<OptimizeFormValues>(initialFormValues);
  const [errors, setErrors] = useState<OptErrors>({});

  const inst = withData.find((i) => i.symbol === v.symbol);
  const frames = useMemo(() => frameOptions(inst), [inst]);
  const frame = frames.find((f) => f.tf === v.timeframe);
  const builtin: BuiltinStrategy | undefined = strategies.data?.builtin.find((s) => s.id === v.strategy);
  const defs = useMemo(() => (builtin?.params ?? []) as ParamDefLike[], [builtin]);
  const params = spaceParams(defs);
  const paramNames = useMemo(() => defs.map((d) => d.name), [defs]);
  const grid = useMemo(() => gridSize(defs, v.specs), [defs, v.specs]);
  const planned = plannedTrials(v, grid.total);

  useEffect(() => {
    if (v.symbol || withData.length === 0) return;
    const first = withData[0]!;
    const f = frameOptions(first).find((o) => !o.resampled);
    setV((p) => ({ ...p, symbol: first.symbol, timeframe: f?.tf ?? "" }));
  }, [withData, v.symbol]);
  useEffect(() => {
    if (v.strategy || !strategies.data?.builtin.length) return;
    const s = strategies.data.builtin[0]!;
    setV((p) => ({ ...p, strategy: s.id, specs: defaultSpecs(s.params as ParamDefLike[]), size: String(s.params.find((d) => d.name === "size")?.default ?? "") }));
  }, [strategies.data, v.strategy]);

  // an optimisation this form started failed as it began: put the message next to its field
  useEffect(() => {
    if (!failure) return;
    const e = optErrorsFromServer({ message: failure.message }, paramNames);
    if (!e.form) setErrors(e);
  }, [failure, paramNames]);

  const clear = (f: OptField) =>
    setErrors((e) => {
      if (!e[f] && !e.form) return e;
      const { [f]: _gone, form: _form, ...rest } = e;
      return rest;
    });
  const set = <K extends keyof OptimizeFormValues>(k: K, value: OptimizeFormValues[K], f: OptField = k as OptField) => {
    setV((p) => ({ ...p, [k]: value }));
    clear(f);
  };
  const setSpec = (name: string, patch: Partial<ParamSpecForm>) => {
    setV((p) => ({ ...p, specs: { ...p.specs, [name]: { ...p.specs[name]!, ...patch } } }));
    setErrors((e) => {
      const { [`space.${name}` as OptField]: _a, space: _b, form: _c, ...rest } = e;
      return rest;
    });
  };
  const setGenetic = (k: GeneticKey, value: string) => {
    setV((p) => ({ ...p, genetic: { ...p.genetic, [k]: value } }));
    clear(`genetic.${k}`);
    clear("genetic");
  };
  const setWf = <K extends keyof OptimizeFormValues["wf"]>(k: K, value: OptimizeFormValues["wf"][K]) => {
    setV((p) => ({ ...p, wf: { ...p.wf, [k]: value } }));
    if (k !== "windows") clear(`walkForward.${k as Exclude<K, "windows">}`);
    clear("walkForward");
  };

  const pickSymbol = (symbol: string) => {
    const opts = frameOptions(withData.find((i) => i.symbol === symbol));
    const keep = opts.some((o) => o.tf === v.timeframe);
    setV((p) => ({ ...p, symbol, timeframe: keep ? p.timeframe : (opts.find((o) => !o.resampled)?.tf ?? "") }));
    setErrors({});
  };
  const pickStrategy = (id: string) => {
    const s = strategies.data?.builtin.find((x) => x.id === id);
    setV((p) => ({ ...p, strategy: id, specs: s ? defaultSpecs(s.params as ParamDefLike[]) : {}, size: s ? String(s.params.find((d) => d.name === "size")?.default ?? p.size) : p.size }));
    setErrors({});
  };

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const built = buildJob(v, defs);
    if ("errors" in built) return setErrors(built.errors);
    setErrors({});
    const title = `${KIND_LABEL[v.kind]} · ${builtin?.name ?? v.strategy} on ${v.symbol} ${v.timeframe}`;
    optimize.mutate(
      { job: built.job },
      {
        onSuccess: (r) => onStarted(r.optimizationId, title, v.objective, v.kind),
        onError: (err) => setErrors(optErrorsFromServer({ message: err.message, data: err.data as ServerErrorLike["data"] }, paramNames)),
      },
    );
  };

  const err = (f: OptField) => errors[f];
  const aria = (id: string, f: OptField) => ({ id, "aria-invalid": err(f) ? true : undefined, "aria-describedby": err(f) ? `${id}-error` : undefined });
  const errorList = Object.entries(errors).filter((x): x is [OptField, string] => typeof x[1] === "string");

  if (instruments.isLoading || strategies.isLoading) {
    return (
      <Section title="New optimisation" testId="optimize-form">
        <p className="p-4 text-sm text-dim">Loading instruments and strategies…</p>
      </Section>
    );
  }
  if (instruments.error || strategies.error) {
    return (
      <Section title="New optimisation" testId="optimize-form">
        <p role="alert" className="p-4 text-sm text-bad">{instruments.error?.message ?? strategies.error?.message}</p>
      </Section>
    );
  }
  if (withData.length === 0) {
    return (
      <Section title="New optimisation" testId="optimize-form">
        <div className="space-y-2 p-4 text-sm" data-testid="no-series">
          <p>No bar series is stored on this installation yet, so there is nothing to optimise on.</p>
          <p className="text-dim">
            Import a CSV of bars on{" "}
            <Link href="/markets" className="text-accent underline">
              Markets
            </Link>
            ; it then shows up here.
          </p>
        </div>
      </Section>
    );
  }

  const currency = inst?.currency ?? "";
  const instDefault = inst ? (inst.commissionType === "percent" ? `${fmtPlain(inst.commission)}% of notional per fill` : `${fmtPlain(inst.commission)} ${currency} per contract per fill`) : "";
  const gridSearchUsed = v.kind === "grid" || (v.kind === "walk_forward" && v.wf.optimizer === "grid");
  const geneticUsed = v.kind === "genetic" || (v.kind === "walk_forward" && v.wf.optimizer === "genetic");
  const overLimit = gridSearchUsed && grid.total !== null && grid.total > GRID_LIMIT;

  return (
    <Section title="New optimisation" testId="optimize-form">
      <form onSubmit={submit} noValidate className="space-y-5 p-4">
        <fieldset className="min-w-0">
          <legend className={legend}>Data</legend>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
            <Field label="Symbol" id="opt-symbol" error={err("symbol")}>
              <select {...aria("opt-symbol", "symbol")} className={inputCls(!!err("symbol"))} value={v.symbol} onChange={(e) => pickSymbol(e.target.value)}>
                {withData.map((i) => (
                  <option key={i.symbol} value={i.symbol}>
                    {i.symbol} · {i.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field
              label="Timeframe"
              id="opt-timeframe"
              error={err("timeframe")}
              hint={frame ? `${frame.resampled ? `resampled from the stored ${frame.source.timeframe} series · ` : ""}${fmtInt(frame.source.count)} stored ${frame.source.timeframe} bars` : undefined}
            >
              <select {...aria("opt-timeframe", "timeframe")} className={inputCls(!!err("timeframe"))} value={v.timeframe} onChange={(e) => set("timeframe", e.target.value as Timeframe)}>
                {frames.map((f) => (
                  <option key={f.tf} value={f.tf}>
                    {f.tf}
                    {f.resampled ? ` (from ${f.source.timeframe})` : ""}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="From (UTC date, optional)" id="opt-from" error={err("from")} hint={frame ? `data starts ${fmtTs(frame.source.first, true)}` : undefined}>
              <input {...aria("opt-from", "from")} type="date" className={inputCls(!!err("from"))} value={v.from} onChange={(e) => set("from", e.target.value)} />
            </Field>
            <Field label="To (UTC date, optional)" id="opt-to" error={err("to")} hint={frame ? `data ends ${fmtTs(frame.source.last, true)}` : undefined}>
              <input {...aria("opt-to", "to")} type="date" className={inputCls(!!err("to"))} value={v.to} onChange={(e) => set("to", e.target.value)} />
            </Field>
          </div>
        </fieldset>

        <fieldset className="min-w-0">
          <legend className={legend}>Strategy and parameters</legend>
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Strategy (built-in)" id="opt-strategy" error={err("strategy")}>
              <select {...aria("opt-strategy", "strategy")} className={inputCls(!!err("strategy"))} value={v.strategy} onChange={(e) => pickStrategy(e.target.value)}>
                {strategies.data?.builtin.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name} ({s.id})
                  </option>
                ))}
              </select>
            </Field>
            <p className="self-end text-xs text-dim">{builtin?.description ?? ""} Strategy Builder strategies take no parameters to vary, so they are not offered.</p>
          </div>
          <div className="mt-3 grid gap-3 lg:grid-cols-2">
            {params.map((d) => (
              <ParamRow key={d.name} def={d} spec={v.specs[d.name]} error={err(`space.${d.name}`)} onChange={(patch) => setSpec(d.name, patch)} />
            ))}
          </div>
          {defs.some(runnerSet) ? <p className="mt-2 text-[11px] text-dim">The bar size is taken from the timeframe.</p> : null}
          <div className="mt-3 border border-line bg-bg px-3 py-2 text-xs" data-testid="grid-size" data-total={grid.total ?? ""}>
            <p className="num break-words">
              <span className="text-dim">{gridSearchUsed ? "grid" : "search space"}: </span>
              {grid.dims.map((d, i) => (
                <span key={d.name}>
                  {i > 0 ? <span className="text-dim"> × </span> : null}
                  <span className={d.size === null ? "text-bad" : d.size > 1 ? "text-fg" : "text-dim"}>
                    {d.name} {d.size === null ? "?" : fmtInt(d.size)}
                  </span>
                </span>
              ))}
              <span className="text-dim"> = </span>
              <span className={overLimit ? "text-bad" : "text-accent"}>{grid.total === null ? "?" : `${fmtInt(grid.total)} combination${grid.total === 1 ? "" : "s"}`}</span>
            </p>
            <p className="mt-1 text-[11px] text-dim">
              {grid.total === null ? "Fix the parameter rows marked ? to count the combinations. " : ""}
              {gridSearchUsed ? "The strategy's own checks (e.g. fast below slow) may skip some. " : ""}
              {planned !== null ? `Trials planned: ${gridSearchUsed && v.kind === "grid" ? "at most " : ""}${fmtInt(planned)}.` : v.kind === "walk_forward" ? "Trials: per fold as many as one search, plus one out-of-sample run; the fold count follows from the data." : ""}
            </p>
            {overLimit ? <p className="mt-1 text-bad">More than the grid limit of {fmtInt(GRID_LIMIT)} points: use larger steps, fewer values, or the genetic search.</p> : null}
            {grid.dims.some((d) => d.size !== null && d.size > DIM_LIMIT) ? <p className="mt-1 text-bad">A range holds more than {fmtInt(DIM_LIMIT)} values; use a larger step.</p> : null}
          </div>
          {err("space") ? (
            <p role="alert" id="opt-space-error" className="mt-1 text-xs text-bad" data-testid="error-opt-space">
              {err("space")}
            </p>
          ) : null}
        </fieldset>

        <fieldset className="min-w-0">
          <legend className={legend}>Method and objective</legend>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
            <Field label="Method" id="opt-kind" error={err("kind")} className="sm:col-span-2">
              <div className="flex flex-wrap gap-1" role="radiogroup" aria-label="Method" id="opt-kind">
                {(["grid", "genetic", "walk_forward"] as OptimizeKind[]).map((k) => (
                  <label key={k} className={`cursor-pointer rounded-sm border px-3 py-1.5 text-sm ${v.kind === k ? "border-accent text-accent" : "border-line text-dim hover:text-fg"}`}>
                    <input type="radio" name="opt-kind" value={k} checked={v.kind === k} onChange={() => set("kind", k)} className="sr-only" data-testid={`opt-kind-${k}`} />
                    {KIND_LABEL[k]}
                  </label>
                ))}
              </div>
            </Field>
            <Field label="Objective" id="opt-objective" error={err("objective")} hint={`${OBJECTIVE_INFO[v.objective].better} is better; the best trial and the heatmap use it`} className="sm:col-span-2">
              <select {...aria("opt-objective", "objective")} className={inputCls(!!err("objective"))} value={v.objective} onChange={(e) => set("objective", e.target.value as ObjectiveId)}>
                {OBJECTIVES.map((o) => (
                  <option key={o} value={o}>
                    {OBJECTIVE_INFO[o].label} ({OBJECTIVE_INFO[o].better} is better)
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <p className="mt-2 text-[11px] text-dim">
            {v.kind === "grid"
              ? "Grid: every combination is backtested on the whole range."
              : v.kind === "genetic"
                ? "Genetic: an NSGA-II search that maximises the Sharpe ratio and minimises the drawdown; the objective picks the best trial."
                : "Walk-forward: optimise on an in-sample window, trade the chosen parameters on the out-of-sample window after it, roll forward."}
          </p>

          {v.kind === "walk_forward" ? (
            <div className="mt-3 border-l-2 border-line pl-3" data-testid="opt-walk-forward">
              <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
                <Field label="Windows" id="opt-wf-windows">
                  <select id="opt-wf-windows" className={inputCls()} value={v.wf.windows} onChange={(e) => setWf("windows", e.target.value as "folds" | "bars")}>
                    <option value="folds">a number of folds</option>
                    <option value="bars">in-sample and out-of-sample bars</option>
                  </select>
                </Field>
                {v.wf.windows === "folds" ? (
                  <Field label="Folds" id="opt-wf-folds" error={err("walkForward.folds")} hint="out-of-sample = bars / (folds + 3), in-sample = 3 × that">
                    <input {...aria("opt-wf-folds", "walkForward.folds")} inputMode="numeric" className={inputCls(!!err("walkForward.folds"))} value={v.wf.folds} onChange={(e) => setWf("folds", e.target.value)} />
                  </Field>
                ) : (
                  <>
                    <Field label="In-sample bars" id="opt-wf-is" error={err("walkForward.inSampleBars")}>
                      <input {...aria("opt-wf-is", "walkForward.inSampleBars")} inputMode="numeric" className={inputCls(!!err("walkForward.inSampleBars"))} value={v.wf.inSampleBars} onChange={(e) => setWf("inSampleBars", e.target.value)} />
                    </Field>
                    <Field label="Out-of-sample bars" id="opt-wf-oos" error={err("walkForward.outOfSampleBars")}>
                      <input {...aria("opt-wf-oos", "walkForward.outOfSampleBars")} inputMode="numeric" className={inputCls(!!err("walkForward.outOfSampleBars"))} value={v.wf.outOfSampleBars} onChange={(e) => setWf("outOfSampleBars", e.target.value)} />
                    </Field>
                    <Field label="Step bars (optional)" id="opt-wf-step" error={err("walkForward.stepBars")} hint="between fold starts; blank = out-of-sample length">
                      <input {...aria("opt-wf-step", "walkForward.stepBars")} inputMode="numeric" className={inputCls(!!err("walkForward.stepBars"))} value={v.wf.stepBars} onChange={(e) => setWf("stepBars", e.target.value)} />
                    </Field>
                  </>
                )}
                <Field label="Optimiser per fold" id="opt-wf-optimizer" error={err("walkForward.optimizer")}>
                  <select {...aria("opt-wf-optimizer", "walkForward.optimizer")} className={inputCls(!!err("walkForward.optimizer"))} value={v.wf.optimizer} onChange={(e) => setWf("optimizer", e.target.value as "grid" | "genetic")}>
                    <option value="grid">grid</option>
                    <option value="genetic">genetic</option>
                  </select>
                </Field>
                <Field label="Indicator warm-up" id="opt-wf-warmup" error={err("walkForward.warmupBars")} hint='"auto" (5 × the largest period) or bars'>
                  <input {...aria("opt-wf-warmup", "walkForward.warmupBars")} className={inputCls(!!err("walkForward.warmupBars"))} value={v.wf.warmupBars} onChange={(e) => setWf("warmupBars", e.target.value)} />
                </Field>
                <Field label="Anchored" id="opt-wf-anchored" error={err("walkForward.anchored")} hint="in-sample always starts at the first fold's start and grows">
                  <label className="flex h-[34px] items-center gap-2 text-sm">
                    <input id="opt-wf-anchored" type="checkbox" checked={v.wf.anchored} onChange={(e) => setWf("anchored", e.target.checked)} />
                    <span className="text-dim">{v.wf.anchored ? "anchored" : "rolling"}</span>
                  </label>
                </Field>
              </div>
              {err("walkForward") ? (
                <p role="alert" id="opt-wf-error" className="mt-1 text-xs text-bad" data-testid="error-opt-walk-forward">
                  {err("walkForward")}
                </p>
              ) : null}
            </div>
          ) : null}

          {geneticUsed ? (
            <div className="mt-3 border-l-2 border-line pl-3" data-testid="opt-genetic">
              <div className="grid grid-cols-2 gap-3 lg:grid-cols-3">
                {GENETIC_FIELDS.map((g) => (
                  <Field key={g.key} label={g.label} id={`opt-gen-${g.key}`} error={err(`genetic.${g.key}`)} hint={g.hint}>
                    <input {...aria(`opt-gen-${g.key}`, `genetic.${g.key}`)} inputMode="decimal" className={inputCls(!!err(`genetic.${g.key}`))} value={v.genetic[g.key]} onChange={(e) => setGenetic(g.key, e.target.value)} />
                  </Field>
                ))}
              </div>
              {err("genetic") ? (
                <p role="alert" id="opt-genetic-error" className="mt-1 text-xs text-bad" data-testid="error-opt-genetic">
                  {err("genetic")}
                </p>
              ) : null}
            </div>
          ) : null}
        </fieldset>

        <fieldset className="min-w-0">
          <legend className={legend}>Size and costs</legend>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
            <Field label="Size (contracts per entry)" id="opt-size" error={err("size")}>
              <input {...aria("opt-size", "size")} inputMode="decimal" className={inputCls(!!err("size"))} value={v.size} onChange={(e) => set("size", e.target.value)} />
            </Field>
            <Field label={`Starting cash${currency ? ` (${currency})` : ""}`} id="opt-cash" error={err("cash")}>
              <input {...aria("opt-cash", "cash")} inputMode="decimal" className={inputCls(!!err("cash"))} value={v.cash} onChange={(e) => set("cash", e.target.value)} />
            </Field>
            <Field label="Commission" id="opt-commission" error={err("commission")} hint={v.commissionKind === "default" && inst ? `${inst.symbol}: ${instDefault}` : undefined}>
              <div className="flex gap-1">
                <select {...aria("opt-commission", "commission")} className={inputCls(!!err("commission"))} value={v.commissionKind} onChange={(e) => set("commissionKind", e.target.value as CommissionKind, "commission")}>
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
            <Field label="Slippage (ticks)" id="opt-slippage" error={err("slippageTicks")} hint={inst ? (inst.tickSize > 0 ? `1 tick = ${fmtPlain(inst.tickSize)}; on market and stop fills` : `${inst.symbol} has no tick grid`) : undefined}>
              <input {...aria("opt-slippage", "slippageTicks")} inputMode="decimal" className={inputCls(!!err("slippageTicks"))} value={v.slippageTicks} onChange={(e) => set("slippageTicks", e.target.value)} />
            </Field>
            <Field label="Same-bar stop and target" id="opt-samebar" error={err("sameBarPolicy")} hint="which fills first when one bar touches both">
              <select {...aria("opt-samebar", "sameBarPolicy")} className={inputCls(!!err("sameBarPolicy"))} value={v.sameBarPolicy} onChange={(e) => set("sameBarPolicy", e.target.value as OptimizeFormValues["sameBarPolicy"])}>
                <option value="stop_first">stop first (conservative)</option>
                <option value="target_first">target first</option>
              </select>
            </Field>
          </div>
        </fieldset>

        {errorList.length ? (
          <div role="alert" data-testid="optimize-errors" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
            {errors.form && errorList.length === 1 ? null : <p className="mb-1 text-xs">Fix these and run again:</p>}
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
          <button type="submit" data-testid="optimize-submit" disabled={!canRun || busy || optimize.isPending} className="rounded-sm bg-accent px-4 py-2 text-sm font-medium text-bg disabled:opacity-50">
            {optimize.isPending ? "Starting…" : "Run optimisation"}
          </button>
          {!canRun ? <span className="text-xs text-warn">Starting an optimisation needs the trader role; you can open the results below.</span> : null}
          {canRun && busy ? <span className="text-xs text-dim">An optimisation is running; wait for it or cancel it.</span> : null}
          {canRun && !busy ? (
            <span className="num text-[11px] text-dim">
              {v.symbol} {v.timeframe}
              {v.from || v.to ? ` · ${v.from || "start"} → ${v.to || "end"}` : ""} · {KIND_LABEL[v.kind]} · {OBJECTIVE_INFO[v.objective].label}
            </span>
          ) : null}
        </div>
      </form>
    </Section>
  );
}

const MODES: { mode: SpecMode; label: string }[] = [
  { mode: "range", label: "range" },
  { mode: "list", label: "list" },
  { mode: "fixed", label: "fixed" },
];

/** One parameter: numbers as a range, a list or a fixed value; times as a list or fixed; enums and booleans as the values to try. */
function ParamRow({ def, spec, error, onChange }: { def: ParamDefLike; spec: ParamSpecForm | undefined; error?: string; onChange: (patch: Partial<ParamSpecForm>) => void }) {
  const id = `opt-param-${def.name}`;
  const invalid = !!error;
  if (!spec) return null;
  const describedBy = invalid ? `${id}-error` : undefined;
  const bounds = def.min !== undefined || def.max !== undefined ? ` (${def.min ?? "…"} to ${def.max ?? "…"})` : "";
  const small = inputCls(invalid);
  const cap = "mb-0.5 block text-[10px] text-dim";
  let control: React.ReactNode;
  if (isPickDef(def)) {
    const options = def.type === "bool" ? ["true", "false"] : [...(def.options ?? [])];
    control = (
      <div className="flex flex-wrap gap-x-4 gap-y-1" role="group" id={id} aria-label={`${def.name} values to try`} aria-describedby={describedBy}>
        {options.map((o) => (
          <label key={o} className="flex items-center gap-1.5 text-sm">
            <input
              type="checkbox"
              data-testid={`${id}-${o}`}
              checked={spec.picked.includes(o)}
              onChange={(e) => onChange({ picked: e.target.checked ? [...spec.picked, o] : spec.picked.filter((x) => x !== o) })}
            />
            <span className="num text-xs">{o}</span>
          </label>
        ))}
      </div>
    );
  } else {
    const modes = isNumericDef(def) ? MODES : MODES.filter((m) => m.mode !== "range");
    const mode = modes.some((m) => m.mode === spec.mode) ? spec.mode : "fixed";
    control = (
      <div className="flex items-end gap-1">
        <select
          id={id}
          aria-label={`${def.name}: how to vary it`}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          data-testid={`${id}-mode`}
          className={`${inputCls(invalid).replace("w-full ", "")} w-[5.5rem] shrink-0`}
          value={mode}
          onChange={(e) => onChange({ mode: e.target.value as SpecMode })}
        >
          {modes.map((m) => (
            <option key={m.mode} value={m.mode}>
              {m.label}
            </option>
          ))}
        </select>
        {mode === "range" ? (
          <div className="grid min-w-0 flex-1 grid-cols-3 gap-1">
            <label className="min-w-0">
              <span className={cap}>min</span>
              <input aria-label={`${def.name} min`} data-testid={`${id}-min`} inputMode="decimal" className={small} value={spec.min} onChange={(e) => onChange({ min: e.target.value })} />
            </label>
            <label className="min-w-0">
              <span className={cap}>max</span>
              <input aria-label={`${def.name} max`} data-testid={`${id}-max`} inputMode="decimal" className={small} value={spec.max} onChange={(e) => onChange({ max: e.target.value })} />
            </label>
            <label className="min-w-0">
              <span className={cap}>step</span>
              <input aria-label={`${def.name} step`} data-testid={`${id}-step`} inputMode="decimal" placeholder={def.type === "int" ? "1" : undefined} className={small} value={spec.step} onChange={(e) => onChange({ step: e.target.value })} />
            </label>
          </div>
        ) : mode === "list" ? (
          <input
            aria-label={`${def.name} values, comma-separated`}
            data-testid={`${id}-list`}
            placeholder={def.type === "time" ? "09:30, 09:45" : "e.g. 5, 10, 20"}
            className={`${small} flex-1`}
            value={spec.list}
            onChange={(e) => onChange({ list: e.target.value })}
          />
        ) : (
          <input
            aria-label={`${def.name} fixed value`}
            data-testid={`${id}-value`}
            type={def.type === "time" ? "time" : "text"}
            inputMode={isNumericDef(def) ? "decimal" : undefined}
            className={`${small} flex-1`}
            value={spec.value}
            onChange={(e) => onChange({ value: e.target.value })}
          />
        )}
      </div>
    );
  }
  return (
    <div className="min-w-0 border border-line bg-bg/40 px-3 py-2" data-testid={`opt-param-row-${def.name}`}>
      <Field label={def.name} id={id} error={error} hint={`${def.description}${isNumericDef(def) ? bounds : ""}${def.type === "time" ? " (HH:MM)" : ""}${isPickDef(def) ? " · one value = fixed" : ""}`}>
        {control}
      </Field>
    </div>
  );
}
