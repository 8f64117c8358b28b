"use client";
import Link from "next/link";
import { useEffect, useMemo, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { fmtInt, fmtTs } from "@/app/(app)/markets/format";
import { frameOptions } from "@/app/(app)/backtests/new-backtest-form";
import type { InstrumentWithSeries } from "@/app/(app)/backtests/types";
import { Field, Section, inputCls } from "@/app/(app)/backtests/ui";
import { TIMEFRAMES } from "@/engine/data/types";
import {
  type FieldDef,
  type FormValues,
  type ServerErrorLike,
  type TrainErrors,
  FIELDS,
  activeFields,
  buildConfig,
  defaultNumEnvs,
  defaultText,
  initialFormValues,
  ppoBatch,
  trainErrorsFromServer,
} from "./model";

const hasBars = (i: InstrumentWithSeries) => i.series.some((s) => s.kind === "bars" && s.count > 0 && (TIMEFRAMES as readonly string[]).includes(s.timeframe));
const legend = "mb-2 text-[11px] uppercase tracking-wide text-dim";
const fid = (path: string) => `tr-${path.replace(/\./g, "-")}`;
const byGroup = (g: FieldDef["group"]) => FIELDS.filter((f) => f.group === g);

/**
 * The new-run form: environment, algorithm, steps, seed and environments;
 * the chosen algorithm's hyperparameters (the engine's defaults filled in);
 * for trading the stored series and the environment's settings. Values that
 * are not numbers are caught here; everything else is checked by the engine,
 * whose refusal names the field ("ppo.gamma: ...") and is shown at it.
 */
export function TrainingForm({ canRun, onStarted }: { canRun: boolean; onStarted: (runId: string) => void }) {
  const instruments = trpc.market.instruments.useQuery();
  const start = trpc.training.start.useMutation();
  const utils = trpc.useUtils();
  const withData = useMemo(() => (instruments.data ?? []).filter(hasBars), [instruments.data]);
  const [v, setV] = useState<FormValues>(initialFormValues);
  const [errors, setErrors] = useState<TrainErrors>({});

  const env = v.env === "trading" ? "trading" : "cartpole";
  const algo = v.algo === "dqn" ? "dqn" : "ppo";
  const symbol = String(v["trading.symbol"] ?? "");
  const inst = withData.find((i) => i.symbol === symbol);
  const frames = useMemo(() => frameOptions(inst), [inst]);
  const frame = frames.find((f) => f.tf === v["trading.timeframe"]);

  // trading: start on the first stored series
  useEffect(() => {
    if (env !== "trading" || symbol || withData.length === 0) return;
    const first = withData[0]!;
    const f = frameOptions(first).find((o) => !o.resampled);
    setV((p) => ({ ...p, "trading.symbol": first.symbol, "trading.timeframe": f?.tf ?? "" }));
  }, [env, symbol, withData]);

  const set = (path: string, value: string | boolean) => {
    setV((p) => ({ ...p, [path]: value }));
    setErrors((e) => {
      const group = path.startsWith("trading.split.") ? "trading.split" : path.split(".")[0]!;
      if (!e[path] && !e.form && !e[group]) return e;
      const { [path]: _a, form: _b, [group]: _c, ...rest } = e;
      return rest;
    });
  };
  const pickSymbol = (s: string) => {
    const opts = frameOptions(withData.find((i) => i.symbol === s));
    const keep = opts.some((o) => o.tf === v["trading.timeframe"]);
    setV((p) => ({ ...p, "trading.symbol": s, "trading.timeframe": keep ? p["trading.timeframe"]! : (opts.find((o) => !o.resampled)?.tf ?? "") }));
    setErrors({});
  };
  const resetGroup = (g: "ppo" | "dqn" | "trading") => {
    const d = initialFormValues();
    setV((p) => {
      const next = { ...p };
      for (const f of byGroup(g)) if (f.path !== "trading.symbol" && f.path !== "trading.timeframe") next[f.path] = d[f.path]!;
      return next;
    });
    setErrors({});
  };

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const built = buildConfig(v);
    if ("errors" in built) return setErrors(built.errors);
    setErrors({});
    start.mutate(
      { config: built.config },
      {
        onSuccess: (r) => {
          void utils.training.runs.invalidate();
          onStarted(r.runId);
        },
        onError: (err) => setErrors(trainErrorsFromServer({ message: err.message, data: err.data as ServerErrorLike["data"] })),
      },
    );
  };

  const err = (k: string) => errors[k];
  const batch = algo === "ppo" ? ppoBatch(v) : null;
  const noSeries = env === "trading" && !instruments.isLoading && withData.length === 0;
  const errorList = Object.entries(errors).filter((x): x is [string, string] => typeof x[1] === "string");

  const control = (f: FieldDef) => {
    const id = fid(f.path);
    const invalid = !!err(f.path);
    const aria = { id, "aria-invalid": invalid || undefined, "aria-describedby": invalid ? `${id}-error` : undefined, "data-testid": id };
    const value = v[f.path];
    if (f.kind === "bool") {
      return (
        <label className="flex items-center gap-2 py-1.5 text-sm">
          <input type="checkbox" {...aria} checked={value === true} onChange={(e) => set(f.path, e.target.checked)} />
          <span>{f.label}</span>
        </label>
      );
    }
    if (f.path === "trading.symbol") {
      return (
        <select {...aria} className={inputCls(invalid)} value={symbol} onChange={(e) => pickSymbol(e.target.value)}>
          {withData.map((i) => (
            <option key={i.symbol} value={i.symbol}>
              {i.symbol} · {i.name}
            </option>
          ))}
        </select>
      );
    }
    if (f.path === "trading.timeframe") {
      return (
        <select {...aria} className={inputCls(invalid)} value={String(value ?? "")} onChange={(e) => set(f.path, e.target.value)}>
          {frames.map((o) => (
            <option key={o.tf} value={o.tf}>
              {o.tf}
              {o.resampled ? ` (from ${o.source.timeframe})` : ""}
            </option>
          ))}
        </select>
      );
    }
    if (f.kind === "select") {
      return (
        <select {...aria} className={inputCls(invalid)} value={String(value ?? "")} onChange={(e) => set(f.path, e.target.value)}>
          {f.options?.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
    }
    const numeric = f.kind === "number" || f.kind === "int" || f.kind === "optNumber";
    const placeholder = f.path === "numEnvs" ? `${defaultNumEnvs(env, algo)} (engine default)` : f.optional ? "blank" : undefined;
    return <input {...aria} className={`${inputCls(invalid)} ${numeric || f.kind === "layers" ? "num" : ""}`} inputMode={numeric ? "decimal" : undefined} placeholder={placeholder} value={String(value ?? "")} onChange={(e) => set(f.path, e.target.value)} />;
  };

  const hintOf = (f: FieldDef) => {
    if (f.kind === "select" && (f.group === "run" || f.path.startsWith("trading.symbol") || f.path === "trading.timeframe")) {
      if (f.path === "trading.timeframe" && frame) return `${frame.resampled ? `resampled from the stored ${frame.source.timeframe} series · ` : ""}${fmtInt(frame.source.count)} stored ${frame.source.timeframe} bars, ${fmtTs(frame.source.first, true)} → ${fmtTs(frame.source.last, true)}`;
      return f.hint;
    }
    if (f.path === "numEnvs") return `blank: ${defaultNumEnvs(env, algo)} for ${env === "cartpole" ? "CartPole" : "trading"} with ${algo.toUpperCase()}`;
    if (f.kind === "bool" || f.group === "run") return f.hint;
    const d = defaultText(f.path);
    return [f.hint, `default ${d}`].filter(Boolean).join(" · ");
  };

  const renderField = (f: FieldDef, className = "") =>
    f.kind === "bool" ? (
      <div key={f.path} className={`min-w-0 ${className}`}>
        {control(f)}
        {err(f.path) ? (
          <p id={`${fid(f.path)}-error`} role="alert" className="mt-1 text-xs text-bad" data-testid={`error-${fid(f.path)}`}>
            {err(f.path)}
          </p>
        ) : null}
      </div>
    ) : (
      <Field key={f.path} label={f.label} id={fid(f.path)} error={err(f.path)} hint={hintOf(f)} className={className}>
        {control(f)}
      </Field>
    );

  const groupError = (k: string) =>
    err(k) ? (
      <p role="alert" id={`${fid(k)}-error`} className="mt-2 text-xs text-bad" data-testid={`error-${fid(k)}`}>
        {err(k)}
      </p>
    ) : null;

  const algoFields = activeFields(env, algo, String(v["ppo.network"] ?? "mlp")).filter((f) => f.group === algo);
  const tradingFields = byGroup("trading");
  const splitFields = tradingFields.filter((f) => f.path.startsWith("trading.split."));
  const resetBtn = (g: "ppo" | "dqn" | "trading") => (
    <button type="button" className="ml-2 text-[11px] normal-case tracking-normal text-dim underline hover:text-fg" onClick={() => resetGroup(g)}>
      defaults
    </button>
  );

  return (
    <Section title="New training run" testId="training-form">
      <form onSubmit={submit} noValidate className="space-y-5 p-4">
        <fieldset className="min-w-0">
          <legend className={legend}>Run</legend>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">{byGroup("run").map((f) => renderField(f))}</div>
        </fieldset>

        <fieldset className="min-w-0">
          <legend className={legend}>
            {algo.toUpperCase()} hyperparameters
            {resetBtn(algo)}
          </legend>
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">{algoFields.filter((f) => f.kind !== "bool").map((f) => renderField(f))}</div>
          <div className="mt-2 flex flex-wrap gap-x-5">{algoFields.filter((f) => f.kind === "bool").map((f) => renderField(f))}</div>
          {batch ? (
            <p className="num mt-2 text-[11px] text-dim" data-testid="ppo-batch">
              batch {fmtInt(batch.numEnvs)} envs × {String(v["ppo.numSteps"]).trim()} = {fmtInt(batch.batch)} steps · minibatch {batch.minibatch !== null ? fmtInt(batch.minibatch) : <span className="text-bad">minibatches must divide the batch</span>} · {fmtInt(batch.iterations)} updates
            </p>
          ) : null}
          {groupError(algo)}
        </fieldset>

        {env === "trading" ? (
          <fieldset className="min-w-0" data-testid="training-trading">
            <legend className={legend}>
              Trading environment
              {resetBtn("trading")}
            </legend>
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
              <>
                <div className="grid gap-3 sm:grid-cols-2">{tradingFields.filter((f) => f.path === "trading.symbol" || f.path === "trading.timeframe").map((f) => renderField(f))}</div>
                <div className="mt-3 border border-line bg-bg/40 px-3 py-2">
                  <p className="mb-1 text-xs text-dim">Split by time: train | validation | test (fractions of the bars, at most 1 in total). The policy learns on the train span only; the test span is used once, for the out-of-sample report.</p>
                  <div className="grid grid-cols-3 gap-2">{splitFields.map((f) => renderField(f))}</div>
                  {groupError("trading.split")}
                </div>
                <div className="mt-3 grid gap-3 sm:grid-cols-2 lg:grid-cols-4">{tradingFields.filter((f) => !f.path.startsWith("trading.split.") && f.path !== "trading.symbol" && f.path !== "trading.timeframe").map((f) => renderField(f, f.kind === "bool" ? "self-end" : ""))}</div>
                {groupError("trading")}
              </>
            )}
          </fieldset>
        ) : (
          <p className="text-xs text-dim">CartPole-v1 (balance a pole on a cart; return = steps balanced, at most 500) is the sanity check: a working PPO or DQN reaches a mean return near 500. It needs no market data.</p>
        )}

        {errorList.length ? (
          <div role="alert" data-testid="training-errors" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
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
          <button type="submit" data-testid="training-submit" disabled={!canRun || start.isPending || noSeries} className="rounded-sm bg-accent px-4 py-2 text-sm font-medium text-bg disabled:opacity-50">
            {start.isPending ? "Starting…" : "Start training"}
          </button>
          {!canRun ? <span className="text-xs text-warn">Starting a run needs the trader role; you can open runs and models below.</span> : null}
          {canRun ? (
            <span className="num text-[11px] text-dim">
              {algo.toUpperCase()} on {env === "cartpole" ? "CartPole" : `${symbol} ${String(v["trading.timeframe"] ?? "")}`} · {String(v.steps)} steps · seed {String(v.seed)} · one run trains at a time, others wait
            </span>
          ) : null}
        </div>
      </form>
    </Section>
  );
}
