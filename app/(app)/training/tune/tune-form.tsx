"use client";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { fmtInt, fmtTs } from "@/app/(app)/markets/format";
import { frameOptions } from "@/app/(app)/backtests/new-backtest-form";
import type { InstrumentWithSeries } from "@/app/(app)/backtests/types";
import { Field, Section, inputCls } from "@/app/(app)/backtests/ui";
import { TIMEFRAMES } from "@/engine/data/types";
import type { ServerErrorLike } from "../model";
import {
  type AlgoId,
  type DimForm,
  type GaKey,
  type TuneErrors,
  type TuneFormValues,
  TUNE_HYPERPARAMS,
  buildTuneJob,
  dimCount,
  hyperLabel,
  initialTuneForm,
  isNumericHyper,
  plannedTrials,
  spaceSize,
  tuneErrorsFromServer,
} from "./model";

const hasBars = (i: InstrumentWithSeries) => i.series.some((s) => s.kind === "bars" && s.count > 0 && (TIMEFRAMES as readonly string[]).includes(s.timeframe));
const legend = "mb-2 text-[11px] uppercase tracking-wide text-dim";
/** A compact control for the space table (its width set per use). */
const small = (invalid = false) => `num min-w-0 rounded-sm border bg-bg px-1.5 py-1 text-xs outline-none focus:border-accent disabled:opacity-50 ${invalid ? "border-bad" : "border-line"}`;

const GA_FIELDS: { key: GaKey; label: string; hint: string }[] = [
  { key: "population", label: "Population", hint: "hyperparameter sets per generation (2 to 1,000)" },
  { key: "generations", label: "Generations", hint: "after the initial population (0 = evaluate it only)" },
  { key: "mutationRate", label: "Mutation rate", hint: "chance each hyperparameter mutates (0 to 1)" },
  { key: "crossoverRate", label: "Crossover rate", hint: "chance two parents mix (0 to 1)" },
  { key: "elite", label: "Elite (optional)", hint: "survivor slots open to parents; blank = a quarter of the population" },
  { key: "workers", label: "Worker threads (optional)", hint: "blank = the engine's default (up to 2); 0 = in the engine's thread" },
];

/**
 * The new-search form: the base training configuration (CartPole, or a
 * stored series), the space (per hyperparameter a list of values or a range,
 * log-spaced for rates) and the genetic settings. Values that are not
 * numbers are caught here; the engine checks the rest and its refusal names
 * the field ("space.ppo.learningRate.2: ..."), shown at it.
 */
export function TuneForm({ canRun, onStarted }: { canRun: boolean; onStarted: (tuneId: string) => void }) {
  const instruments = trpc.market.instruments.useQuery();
  const start = trpc.training.tune.start.useMutation();
  const utils = trpc.useUtils();
  const withData = useMemo(() => (instruments.data ?? []).filter(hasBars), [instruments.data]);
  const [v, setV] = useState<TuneFormValues>(initialTuneForm);
  const [errors, setErrors] = useState<TuneErrors>({});

  const inst = withData.find((i) => i.symbol === v.symbol);
  const frames = useMemo(() => frameOptions(inst), [inst]);
  const frame = frames.find((f) => f.tf === v.timeframe);
  const size = spaceSize(v);
  const planned = plannedTrials(v);

  // trading: start on the first stored series
  useEffect(() => {
    if (v.env !== "trading" || v.symbol || withData.length === 0) return;
    const first = withData[0]!;
    const f = frameOptions(first).find((o) => !o.resampled);
    setV((p) => ({ ...p, symbol: first.symbol, timeframe: f?.tf ?? "" }));
  }, [v.env, v.symbol, withData]);

  const clear = (...keys: string[]) =>
    setErrors((e) => {
      if (!keys.some((k) => e[k]) && !e.form) return e;
      const next = { ...e };
      for (const k of [...keys, "form"]) delete next[k];
      return next;
    });
  const setGa = (k: GaKey, value: string) => {
    setV((p) => ({ ...p, ga: { ...p.ga, [k]: value } }));
    clear(k);
  };
  const setDim = (name: string, patch: Partial<DimForm>) => {
    setV((p) => ({ ...p, dims: { ...p.dims, [p.algo]: { ...p.dims[p.algo], [name]: { ...p.dims[p.algo][name]!, ...patch } } } }));
    clear(`space.${name}`, "space");
  };
  const pickSymbol = (s: string) => {
    const opts = frameOptions(withData.find((i) => i.symbol === s));
    const keep = opts.some((o) => o.tf === v.timeframe);
    setV((p) => ({ ...p, symbol: s, timeframe: keep ? p.timeframe : (opts.find((o) => !o.resampled)?.tf ?? "") }));
    clear("base.trading");
  };

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const built = buildTuneJob(v);
    if ("errors" in built) return setErrors(built.errors);
    setErrors({});
    start.mutate(
      { job: built.job as unknown as Record<string, unknown> },
      {
        onSuccess: (r) => {
          void utils.training.tunings.invalidate();
          onStarted(r.tuneId);
        },
        onError: (err) => setErrors(tuneErrorsFromServer({ message: err.message, data: err.data as ServerErrorLike["data"] })),
      },
    );
  };

  const err = (k: string) => errors[k];
  const noSeries = v.env === "trading" && !instruments.isLoading && withData.length === 0;
  const errorList = Object.entries(errors).filter((x): x is [string, string] => typeof x[1] === "string");
  const defs = TUNE_HYPERPARAMS[v.algo];
  const dims = v.dims[v.algo];

  const aria = (id: string, key: string) => ({ id, "aria-invalid": err(key) ? true : undefined, "aria-describedby": err(key) ? `${id}-error` : undefined, "data-testid": id });

  return (
    <Section title="New hyperparameter search" testId="tune-form">
      <form onSubmit={submit} noValidate className="space-y-5 p-4">
        <fieldset className="min-w-0">
          <legend className={legend}>Base configuration (every trial starts from it)</legend>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
            <Field label="Environment" id="tu-env" error={err("base.env")}>
              <select
                {...aria("tu-env", "base.env")}
                className={inputCls(!!err("base.env"))}
                value={v.env}
                onChange={(e) => {
                  setV((p) => ({ ...p, env: e.target.value === "trading" ? "trading" : "cartpole" }));
                  clear("base.env", "base.trading");
                }}
              >
                <option value="cartpole">CartPole (sanity check)</option>
                <option value="trading">Trading on a stored series</option>
              </select>
            </Field>
            <Field label="Algorithm" id="tu-algo" error={err("base.algo")} hint="the space below is this algorithm's">
              <select
                {...aria("tu-algo", "base.algo")}
                className={inputCls(!!err("base.algo"))}
                value={v.algo}
                onChange={(e) => {
                  setV((p) => ({ ...p, algo: (e.target.value === "dqn" ? "dqn" : "ppo") as AlgoId }));
                  setErrors({});
                }}
              >
                <option value="ppo">PPO</option>
                <option value="dqn">DQN</option>
              </select>
            </Field>
            <Field label="Steps per trial" id="tu-steps" error={err("base.steps")} hint="environment steps each trial trains for">
              <input
                {...aria("tu-steps", "base.steps")}
                className={`${inputCls(!!err("base.steps"))} num`}
                inputMode="numeric"
                value={v.steps}
                onChange={(e) => {
                  setV((p) => ({ ...p, steps: e.target.value }));
                  clear("base.steps");
                }}
              />
            </Field>
            <Field label="Seed" id="tu-seed" error={err("seed")} hint="the search's; each trial's seed derives from it and its hyperparameters">
              <input {...aria("tu-seed", "seed")} className={`${inputCls(!!err("seed"))} num`} inputMode="numeric" value={v.ga.seed} onChange={(e) => setGa("seed", e.target.value)} />
            </Field>
          </div>
          {v.env === "trading" ? (
            <div className="mt-3" data-testid="tune-trading">
              {noSeries ? (
                <div className="space-y-1 text-sm" data-testid="no-series">
                  <p>No bar series is stored on this installation yet, so there is nothing to trade on.</p>
                  <p className="text-dim">
                    Import a CSV of bars on{" "}
                    <Link href="/markets" className="text-accent underline">
                      Markets
                    </Link>
                    ; it then shows up here. CartPole needs no data.
                  </p>
                </div>
              ) : instruments.error ? (
                <p role="alert" className="text-sm text-bad">
                  {instruments.error.message}
                </p>
              ) : (
                <div className="grid gap-3 sm:grid-cols-2">
                  <Field label="Symbol" id="tu-symbol" error={err("base.trading")}>
                    <select {...aria("tu-symbol", "base.trading")} className={inputCls(!!err("base.trading"))} value={v.symbol} onChange={(e) => pickSymbol(e.target.value)}>
                      {withData.map((i) => (
                        <option key={i.symbol} value={i.symbol}>
                          {i.symbol} · {i.name}
                        </option>
                      ))}
                    </select>
                  </Field>
                  <Field
                    label="Timeframe"
                    id="tu-timeframe"
                    hint={frame ? `${frame.resampled ? `resampled from the stored ${frame.source.timeframe} series · ` : ""}${fmtInt(frame.source.count)} stored ${frame.source.timeframe} bars, ${fmtTs(frame.source.first, true)} → ${fmtTs(frame.source.last, true)}` : undefined}
                  >
                    <select
                      id="tu-timeframe"
                      data-testid="tu-timeframe"
                      className={inputCls(false)}
                      value={v.timeframe}
                      onChange={(e) => {
                        setV((p) => ({ ...p, timeframe: e.target.value }));
                        clear("base.trading");
                      }}
                    >
                      {frames.map((o) => (
                        <option key={o.tf} value={o.tf}>
                          {o.tf}
                          {o.resampled ? ` (from ${o.source.timeframe})` : ""}
                        </option>
                      ))}
                    </select>
                  </Field>
                  <p className="text-xs text-dim sm:col-span-2">
                    The bars are split by time 60 / 20 / 20 (train | validation | test). Each trial learns on the train span and is scored on the validation span only: its Sharpe ratio (maximised) and max drawdown (minimised). The test span is never looked at, so a
                    tuned configuration can still be judged out of sample by a training run.
                  </p>
                </div>
              )}
            </div>
          ) : (
            <p className="mt-2 text-xs text-dim">CartPole has no validation span: each trial is scored by the mean return of its greedy policy over 100 fresh evaluation episodes (the single objective, labelled validation).</p>
          )}
        </fieldset>

        <fieldset className="min-w-0" data-testid="tune-space">
          <legend className={legend}>
            Hyperparameter space ({v.algo.toUpperCase()}) · {size === null ? "—" : `${fmtInt(size)} combination${size === 1 ? "" : "s"}`}
          </legend>
          <p className="mb-2 text-xs text-dim">Tick what to tune; the rest keep the engine&apos;s defaults. A list takes comma-separated values; a range takes min, max and a number of values (log-spaced with “log”, e.g. for learning rates) or a step.</p>
          <div className="overflow-x-auto">
            <table className="w-full text-xs">
              <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
                <tr>
                  <th className="px-2 py-1 font-normal">Tune</th>
                  <th className="px-2 py-1 font-normal">Hyperparameter</th>
                  <th className="px-2 py-1 font-normal">As</th>
                  <th className="px-2 py-1 font-normal">Values</th>
                  <th className="px-2 py-1 text-right font-normal">Count</th>
                </tr>
              </thead>
              <tbody>
                {defs.map((d) => {
                  const f = dims[d.name]!;
                  const key = `space.${d.name}`;
                  const id = `tu-space-${d.name}`;
                  const invalid = !!err(key);
                  const numeric = isNumericHyper(d);
                  const count = f.on ? dimCount(d, f) : null;
                  return (
                    <tr key={d.name} className={`border-t border-line align-top ${f.on ? "" : "text-dim"}`} data-testid={`${id}-row`}>
                      <td className="px-2 py-1.5">
                        <input type="checkbox" aria-label={`Tune ${hyperLabel(d.name)}`} data-testid={`${id}-on`} checked={f.on} onChange={(e) => setDim(d.name, { on: e.target.checked })} />
                      </td>
                      <td className="px-2 py-1.5 whitespace-nowrap">
                        {hyperLabel(d.name)} <span className="num text-[11px] text-dim">{d.name}</span>
                      </td>
                      <td className="px-2 py-1.5">
                        {numeric ? (
                          <select aria-label={`${d.name} as a list or a range`} data-testid={`${id}-mode`} className={`${small()} min-w-[4.5rem]`} disabled={!f.on} value={f.mode} onChange={(e) => setDim(d.name, { mode: e.target.value === "range" ? "range" : "list" })}>
                            <option value="list">list</option>
                            <option value="range">range</option>
                          </select>
                        ) : (
                          <span className="text-dim">list</span>
                        )}
                      </td>
                      <td className="min-w-[16rem] px-2 py-1.5">
                        {f.mode === "range" && numeric ? (
                          <div className="flex flex-wrap items-center gap-1.5">
                            <input aria-label={`${d.name} min`} data-testid={`${id}-min`} className={`${small(invalid)} w-24`} disabled={!f.on} value={f.min} onChange={(e) => setDim(d.name, { min: e.target.value })} />
                            <span className="text-dim">→</span>
                            <input aria-label={`${d.name} max`} data-testid={`${id}-max`} className={`${small(invalid)} w-24`} disabled={!f.on} value={f.max} onChange={(e) => setDim(d.name, { max: e.target.value })} />
                            <input aria-label={`${d.name} number of values`} title="number of values" data-testid={`${id}-count`} className={`${small(invalid)} w-14`} disabled={!f.on || (!f.log && f.step.trim() !== "")} value={f.count} onChange={(e) => setDim(d.name, { count: e.target.value })} />
                            <span className="text-dim">values</span>
                            {!f.log ? (
                              <>
                                <span className="text-dim">or step</span>
                                <input aria-label={`${d.name} step`} data-testid={`${id}-step`} className={`${small(invalid)} w-16`} disabled={!f.on} placeholder="—" value={f.step} onChange={(e) => setDim(d.name, { step: e.target.value })} />
                              </>
                            ) : null}
                            <label className="flex items-center gap-1">
                              <input type="checkbox" data-testid={`${id}-log`} disabled={!f.on} checked={f.log} onChange={(e) => setDim(d.name, { log: e.target.checked })} />
                              log
                            </label>
                          </div>
                        ) : (
                          <input aria-label={`${d.name} values`} data-testid={`${id}-list`} className={`${small(invalid)} w-full`} disabled={!f.on} value={f.list} placeholder={d.type === "enum" ? d.options!.join(", ") : d.type === "bool" ? "true, false" : "e.g. 0.9, 0.95, 0.99"} onChange={(e) => setDim(d.name, { list: e.target.value })} />
                        )}
                        {invalid ? (
                          <p id={`${id}-error`} role="alert" className="mt-1 text-xs text-bad" data-testid={`error-${id}`}>
                            {err(key)}
                          </p>
                        ) : null}
                      </td>
                      <td className="num px-2 py-1.5 text-right">{f.on ? (count === null ? "—" : fmtInt(count)) : ""}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {err("space") ? (
            <p role="alert" className="mt-2 text-xs text-bad" data-testid="error-tu-space">
              {err("space")}
            </p>
          ) : null}
        </fieldset>

        <fieldset className="min-w-0">
          <legend className={legend}>Genetic search</legend>
          <div className="grid gap-3 sm:grid-cols-3 lg:grid-cols-6">
            {GA_FIELDS.map((g) => (
              <Field key={g.key} label={g.label} id={`tu-${g.key}`} error={err(g.key)} hint={g.hint}>
                <input {...aria(`tu-${g.key}`, g.key)} className={`${inputCls(!!err(g.key))} num`} inputMode="decimal" placeholder={g.key === "elite" || g.key === "workers" ? "blank" : undefined} value={v.ga[g.key]} onChange={(e) => setGa(g.key, e.target.value)} />
              </Field>
            ))}
          </div>
        </fieldset>

        {errorList.length ? (
          <div role="alert" data-testid="tune-errors" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
            {errors.form && errorList.length === 1 ? null : <p className="mb-1 text-xs">Fix these and start again:</p>}
            <ul className="space-y-0.5">
              {errorList.map(([f, msg]) => (
                <li key={f} className="break-words">
                  {msg}
                </li>
              ))}
            </ul>
          </div>
        ) : null}

        <div className="flex flex-wrap items-center gap-3">
          <button type="submit" data-testid="tune-submit" disabled={!canRun || start.isPending || noSeries} className="rounded-sm bg-accent px-4 py-2 text-sm font-medium text-bg disabled:opacity-50">
            {start.isPending ? "Starting…" : "Start search"}
          </button>
          {!canRun ? <span className="text-xs text-warn">Starting a search needs the trader role; you can open past searches below.</span> : null}
          {canRun ? (
            <span className="num text-[11px] text-dim" data-testid="tune-planned">
              {v.algo.toUpperCase()} on {v.env === "cartpole" ? "CartPole" : `${v.symbol} ${v.timeframe}`} · up to {planned === null ? "—" : fmtInt(planned)} trials of {v.steps.trim() || "—"} steps · one search runs at a time, others wait
            </span>
          ) : null}
        </div>
      </form>
    </Section>
  );
}
