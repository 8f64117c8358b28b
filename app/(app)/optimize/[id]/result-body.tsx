"use client";
import { useMemo } from "react";
import { fmtInt } from "@/app/(app)/markets/format";
import { describeCommission, describeSameBar, describeSlippage, fmtMoney, fmtNum, fmtPct, fmtTime } from "@/app/(app)/backtests/report-model";
import { Section, signCls } from "@/app/(app)/backtests/ui";
import { KIND_LABEL, type OptimizationView, type ParamValue, type StoredResult, type StoredTrial, fmtCount, fmtObjective, fmtParamList, objectiveLabel } from "../model";
import { Heatmap } from "./heatmap";
import { OverfitStats } from "./overfit-stats";
import { GenerationsTable, ParetoChart } from "./pareto-chart";
import { TrialsTable } from "./trials-table";
import { SampleTag, WalkForwardView } from "./walk-forward";

export interface BacktestLauncher {
  /** Runs a full backtest of these parameters on the optimisation's data and costs; `key` names the button that asked. */
  run: (params: Record<string, ParamValue>, key: string) => void;
  pending: string | null;
  error: string | null;
}

const intOr = fmtCount;

const fmtMs = (ms: number | null | undefined) => (ms === null || ms === undefined || !Number.isFinite(ms) ? "—" : ms >= 1000 ? `${fmtNum(ms / 1000, 2)} s` : `${fmtNum(ms, 0)} ms`);

function methodDetail(view: OptimizationView, r: StoredResult): string {
  const g = view.job.genetic;
  const num = (x: unknown) => (typeof x === "number" ? String(x) : null);
  if (r.kind === "grid") return `${intOr(r.space?.points)} grid points${r.skipped ? `, ${fmtInt(r.skipped)} skipped by the strategy's check` : ""}`;
  if (r.kind === "genetic") {
    const parts = [
      g && num(g.population) ? `population ${num(g.population)}` : null,
      g && num(g.generations) ? `${num(g.generations)} generations` : null,
      g && num(g.mutationRate) ? `mutation ${num(g.mutationRate)}` : null,
      g && num(g.crossoverRate) ? `crossover ${num(g.crossoverRate)}` : null,
      g && num(g.elite) ? `elite ${num(g.elite)}` : null,
      g && num(g.seed) ? `seed ${num(g.seed)}` : null,
      r.evaluations !== undefined ? `${intOr(r.evaluations)} backtests run` : null,
      r.cacheHits ? `${fmtInt(r.cacheHits)} repeats served from the cache` : null,
    ].filter(Boolean);
    return parts.length ? parts.join(" · ") : "engine defaults";
  }
  const w = r.walkForward?.windows;
  return w ? `${w.folds} folds · ${intOr(w.inSampleBars)} in-sample / ${intOr(w.outOfSampleBars)} out-of-sample bars · ${w.anchored ? "anchored" : "rolling"} · ${w.optimizer} per fold` : "";
}

/** The summary lines of a stored result. */
export function summaryRows(view: OptimizationView, r: StoredResult, currency: string): { label: string; value: string; testId?: string }[] {
  const daily = r.data?.timeframe === "1d";
  const failed = r.trials.filter((t) => !t.ok).length;
  const j = view.job;
  return [
    { label: "Method", value: `${KIND_LABEL[r.kind]} · ${methodDetail(view, r)}`, testId: "summary-method" },
    { label: "Objective", value: `${objectiveLabel(r.objective)} (${r.better} is better)` },
    { label: "Strategy", value: `${r.strategy?.name ?? j.strategy ?? "—"} (${r.strategy?.id ?? j.strategy ?? "—"})` },
    { label: "Data", value: `${r.data?.symbol ?? j.symbol ?? "—"} ${r.data?.timeframe ?? j.timeframe ?? ""} · ${r.data?.source || "—"}` },
    { label: "Data span", value: `${fmtTime(r.data?.firstTs, daily)} → ${fmtTime(r.data?.lastTs, daily)} · ${intOr(r.data?.bars)} bars`, testId: "summary-span" },
    {
      label: "Trials",
      value: `${fmtInt(r.trials.length)} of ${intOr(r.total)} planned${failed ? ` · ${fmtInt(failed)} failed` : ""}${r.stopped ? " · stopped early (cancelled)" : ""}${view.droppedTrials ? ` · ${view.droppedTrials} malformed, not shown` : ""}`,
      testId: "summary-trials",
    },
    { label: "Time", value: `${fmtMs(r.elapsedMs)}${view.createdAt ? ` · started ${view.createdAt.slice(0, 19).replace("T", " ")} UTC` : ""}`, testId: "summary-time" },
    { label: "Workers", value: `${typeof r.workers !== "number" ? "—" : r.workers === 0 ? "in-process (0 worker threads)" : `${r.workers} worker threads`}${r.workersFallback ? ` · ${r.workersFallback}` : ""}` },
    { label: "Space", value: r.space?.params?.length ? `${r.space.params.map((p) => `${p.name} (${p.type}): ${intOr(p.size)}`).join(" × ")} = ${intOr(r.space.points)} combinations` : "—" },
    { label: "Fixed parameters", value: fmtParamList(r.fixedParams ?? {}) },
    { label: "Cash and costs", value: `${fmtMoney(r.cash, currency)} · commission ${describeCommission(j.commission, currency)} · slippage ${describeSlippage(j.slippageTicks > 0 ? { kind: "ticks", ticks: j.slippageTicks } : { kind: "none" })}${j.sameBarPolicy ? ` · ${describeSameBar(j.sameBarPolicy)}` : ""}` },
  ];
}

function TrialMetricsGrid({ t, objective, currency }: { t: StoredTrial; objective: string; currency: string }) {
  const m = t.metrics;
  const cells: { label: string; value: string; cls?: string }[] = [
    { label: `${objectiveLabel(objective)} (objective)`, value: fmtObjective(objective, t.objective, objective === "profitFactor" && m?.profitFactorInfinite === true) },
    { label: "Sharpe ratio", value: fmtNum(m?.sharpe, 3) },
    { label: "Sortino ratio", value: fmtNum(m?.sortino, 3) },
    { label: "Total return", value: fmtPct(m?.totalReturn, 2, true), cls: signCls(m?.totalReturn) },
    { label: "Max drawdown", value: fmtPct(m?.maxDrawdownPct) },
    { label: "Trades", value: m?.trades === null || m?.trades === undefined ? "—" : fmtInt(m.trades) },
    { label: "Profit factor", value: m?.profitFactorInfinite ? "∞" : fmtNum(m?.profitFactor, 2) },
    { label: "Final value", value: fmtMoney(m?.finalValue, currency) },
  ];
  return (
    <dl className="grid grid-cols-2 gap-px bg-line sm:grid-cols-4">
      {cells.map((c) => (
        <div key={c.label} className="min-w-0 bg-panel px-3 py-2">
          <dt className="text-[11px] uppercase tracking-wide text-dim">{c.label}</dt>
          <dd className={`num mt-0.5 truncate text-sm ${c.cls ?? ""}`} title={c.value}>
            {c.value}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** Everything a finished (or cancelled) optimisation stored, by method. */
export function ResultBody({ view, result: r, currency, launcher }: { view: OptimizationView; result: StoredResult; currency: string; launcher?: BacktestLauncher }) {
  const daily = r.data?.timeframe === "1d";
  const paramNames = useMemo(() => (r.space?.params ?? []).map((p) => p.name), [r.space]);
  const frontIds = useMemo(() => new Set((r.pareto ?? []).map((t) => t.id)), [r.pareto]);
  const best = r.best;
  const wf = r.kind === "walk_forward" ? r.walkForward : undefined;

  return (
    <>
      <Section title="Summary" testId="optimize-summary">
        <dl className="grid gap-px bg-line text-sm sm:grid-cols-2">
          {summaryRows(view, r, currency).map((row, i, all) => (
            <div key={row.label} className={`min-w-0 bg-panel px-4 py-2 ${i === all.length - 1 && all.length % 2 === 1 ? "sm:col-span-2" : ""}`} data-testid={row.testId}>
              <dt className="text-[11px] uppercase tracking-wide text-dim">{row.label}</dt>
              <dd className="num mt-0.5 text-xs break-words">{row.value}</dd>
            </div>
          ))}
        </dl>
        {r.skippedExamples?.length ? <p className="px-4 py-2 text-[11px] text-dim">Skipped, e.g.: {r.skippedExamples.join("; ")}</p> : null}
      </Section>

      {launcher?.error ? (
        <p role="alert" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm break-words text-bad" data-testid="trial-backtest-error">
          The backtest did not start: {launcher.error}
        </p>
      ) : null}

      {r.kind !== "walk_forward" ? (
        <Section
          title={
            <>
              Best parameters <SampleTag oos={false} />
            </>
          }
          testId="best-params"
          right={
            best && launcher ? (
              <button
                type="button"
                data-testid="best-backtest"
                disabled={launcher.pending !== null}
                onClick={() => launcher.run(Object.fromEntries(Object.entries(best.params).filter((e): e is [string, ParamValue] => e[1] !== null)), "best")}
                className="rounded-sm border border-accent/60 px-2.5 py-1 text-xs text-accent hover:bg-accent/10 disabled:opacity-50"
              >
                {launcher.pending === "best" ? "Starting…" : "Run full backtest"}
              </button>
            ) : null
          }
        >
          {best ? (
            <div className="space-y-2 p-3">
              <p className="num text-sm break-words">
                <span className="text-fg">{fmtParamList(best.params)}</span>
                <span className="text-dim"> · trial #{best.id}</span>
              </p>
              <p className="num text-[11px] break-words text-dim">with fixed: {fmtParamList(r.fixedParams ?? {})}</p>
              <TrialMetricsGrid t={best} objective={r.objective} currency={currency} />
              <p className="text-[11px] text-dim">Chosen as the best of {fmtInt(r.trials.length)} trials on this same data, so these figures are in-sample and flattered by the choice; the overfitting statistics below say by how much to discount them.</p>
            </div>
          ) : (
            <p className="p-4 text-sm text-dim">No trial succeeded, so there is no best.</p>
          )}
        </Section>
      ) : null}

      {r.kind === "grid" ? (
        <Section
          title={
            <>
              Parameter heatmap <SampleTag oos={false} />
            </>
          }
          testId="heatmap-section"
        >
          <Heatmap result={r} />
        </Section>
      ) : null}

      {r.kind === "genetic" ? (
        <>
          <Section
            title={
              <>
                Pareto front: Sharpe against max drawdown <SampleTag oos={false} />
              </>
            }
            testId="pareto-section"
          >
            <ParetoChart trials={r.trials} pareto={r.pareto ?? []} best={best} objective={r.objective} />
          </Section>
          <Section
            title={
              <>
                Generations <SampleTag oos={false} />
              </>
            }
            testId="generations-section"
          >
            <GenerationsTable generations={r.generations ?? []} objective={r.objective} />
          </Section>
        </>
      ) : null}

      {wf ? <WalkForwardView wf={wf} objective={r.objective} daily={daily} currency={currency} cash={r.cash ?? null} onBacktest={launcher?.run} pending={launcher?.pending ?? null} /> : null}

      <Section title="Overfitting statistics" testId="overfit-section">
        <OverfitStats overfit={r.overfit} walkForward={wf ? { meanDsr: wf.overfit?.meanDsr ?? null, meanPbo: wf.overfit?.meanPbo ?? null, folds: wf.folds?.length ?? 0 } : null} />
      </Section>

      <Section
        title={
          <>
            Trials <SampleTag oos={false} />
          </>
        }
        right={<span className="num text-[11px] text-dim">{fmtInt(r.trials.length)}</span>}
        testId="trials-section"
      >
        <TrialsTable
          trials={r.trials}
          paramNames={paramNames}
          objective={r.objective}
          better={r.better}
          walkForward={r.kind === "walk_forward"}
          bestId={best?.id ?? null}
          frontIds={r.kind === "genetic" ? frontIds : undefined}
          onBacktest={launcher?.run}
          pending={launcher?.pending ?? null}
        />
      </Section>
    </>
  );
}
