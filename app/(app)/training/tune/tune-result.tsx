"use client";
import { useMemo, useState } from "react";
import { fmtNum, fmtPct } from "@/app/(app)/backtests/report-model";
import { StatusBadge } from "@/app/(app)/backtests/ui";
import { TuneParetoChart } from "./pareto-chart";
import { type TrialView, type TuneJobView, type TuneResultView, fmtCount, fmtHyper, fmtHyperList, fmtSeconds, hyperColumns, hyperLabel, sortTrialsBest } from "./model";

const ROW_LIMIT = 300;
const th = "px-3 py-2 font-normal whitespace-nowrap";
const td = "px-3 py-1 whitespace-nowrap";

/**
 * The outcome of one search, every objective on the VALIDATION span: the
 * best trial, the Pareto chart, the per-generation statistics and every
 * trial with its hyperparameters and objectives. While it runs (or when no
 * result was stored) it shows the trials stored so far.
 */
export function TuneResult({ status, job, view }: { status: string; job: TuneJobView; view: TuneResultView | null }) {
  const env = view?.env ?? job.env ?? "cartpole";
  if (!view) {
    return (
      <div data-testid="tune-result" data-status={status} className="p-4 text-sm text-dim">
        {status === "queued" ? "Queued: the search starts when the one before it ends." : status === "failed" ? "No trial was stored before the search failed." : "No trial has finished yet."}
      </div>
    );
  }
  const dims = hyperColumns(job, view.trials);
  const best = view.best !== null ? view.trials.find((t) => t.id === view.best) : undefined;
  const ok = view.trials.filter((t) => t.status === "ok" && !t.live).length;
  return (
    <div data-testid="tune-result" data-status={status} data-source={view.source} className="min-w-0">
      <div className="space-y-2 border-b border-line px-4 py-3 text-xs">
        <p className="flex flex-wrap items-center gap-2">
          <StatusBadge status={status} />
          <span className="text-dim">{view.source === "result" ? (view.stopped ? "stored result up to the stop" : "stored result") : "trials stored so far (each completed generation; live front points of the running one)"}</span>
        </p>
        <dl className="num grid grid-cols-2 gap-x-6 gap-y-1 sm:grid-cols-3 lg:grid-cols-6" data-testid="tune-result-stats">
          <Stat label="Trials trained" value={fmtCount(view.evaluations)} />
          <Stat label="Successful" value={fmtCount(ok)} />
          <Stat label="Failed" value={fmtCount(view.failed)} />
          <Stat label="Cache hits" value={fmtCount(view.cacheHits)} />
          <Stat label="Worker threads" value={view.workers === null ? "—" : view.workers === 0 ? "0 (in-process)" : fmtCount(view.workers)} />
          <Stat label="Time" value={fmtSeconds(view.seconds)} />
        </dl>
        {view.fallback ? <p className="text-warn">Worker threads were not used: {view.fallback}</p> : null}
        <ul className="space-y-0.5 text-dim" data-testid="tune-objectives">
          {(view.objectives.length ? view.objectives : defaultObjectives(env)).map((o) => (
            <li key={o.name}>
              <span className="num text-fg">{o.name}</span> ({o.goal === "min" ? "minimise" : "maximise"}, validation): {o.description}
            </li>
          ))}
        </ul>
        {best ? (
          <p className="num break-words" data-testid="tune-best">
            <span className="text-dim">Best ({env === "trading" ? "highest validation Sharpe" : "highest validation evaluation return"}): </span>
            <span className="text-fg">trial #{best.id}</span>
            <span className="text-dim"> · {fmtHyperList(best.hyperparams, dims)} · </span>
            {env === "trading" ? (
              <span>
                Sharpe (validation) {fmtNum(best.valSharpe, 3)} · max DD (validation) {fmtPct(best.valMaxDrawdown)}
              </span>
            ) : (
              <span>evaluation return (validation) {fmtNum(best.evalReturn, 1)}</span>
            )}
          </p>
        ) : null}
      </div>
      <TuneParetoChart env={env} trials={view.trials} pareto={view.pareto} best={view.best} dims={dims} />
      {view.generations.length ? <GenerationsTable env={env} generations={view.generations} /> : null}
      <TrialsTable env={env} trials={view.trials} pareto={view.pareto} dims={dims} />
    </div>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-[11px] text-dim">{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function defaultObjectives(env: string): { name: string; goal: string; description: string }[] {
  return env === "trading"
    ? [
        { name: "valSharpe", goal: "max", description: "Sharpe ratio of the greedy policy on the validation span" },
        { name: "valMaxDrawdown", goal: "min", description: "maximum drawdown (fraction of the peak) on the validation span" },
      ]
    : [{ name: "evalReturn", goal: "max", description: "mean return of the greedy policy over 100 fresh evaluation episodes (CartPole has no validation span)" }];
}

function GenerationsTable({ env, generations }: { env: string; generations: TuneResultView["generations"] }) {
  return (
    <div className="overflow-x-auto border-t border-line">
      <table className="num w-full text-xs" data-testid="tune-generations">
        <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
          <tr>
            <th className={th}>Gen</th>
            <th className={`${th} text-right`}>Trained</th>
            <th className={`${th} text-right`}>Cached</th>
            <th className={`${th} text-right`}>Failed</th>
            {env === "trading" ? (
              <>
                <th className={`${th} text-right`}>Best Sharpe (validation)</th>
                <th className={`${th} text-right`}>Mean Sharpe (validation)</th>
                <th className={`${th} text-right`}>Min max DD (validation)</th>
              </>
            ) : (
              <>
                <th className={`${th} text-right`}>Best return (validation)</th>
                <th className={`${th} text-right`}>Mean return (validation)</th>
              </>
            )}
            <th className={`${th} text-right`}>Front size</th>
          </tr>
        </thead>
        <tbody>
          {generations.map((g) => (
            <tr key={g.generation} className="border-t border-line">
              <td className="px-3 py-1 text-dim">{g.generation === 0 ? "0 (initial)" : g.generation}</td>
              <td className={`${td} text-right`}>{fmtCount(g.evaluated)}</td>
              <td className={`${td} text-right`}>{fmtCount(g.cached)}</td>
              <td className={`${td} text-right`}>{fmtCount(g.failed)}</td>
              {env === "trading" ? (
                <>
                  <td className={`${td} text-right`}>{fmtNum(g.bestValSharpe, 3)}</td>
                  <td className={`${td} text-right`}>{fmtNum(g.meanValSharpe, 3)}</td>
                  <td className={`${td} text-right`}>{fmtPct(g.minValMaxDrawdown)}</td>
                </>
              ) : (
                <>
                  <td className={`${td} text-right`}>{fmtNum(g.bestEvalReturn, 1)}</td>
                  <td className={`${td} text-right`}>{fmtNum(g.meanEvalReturn, 1)}</td>
                </>
              )}
              <td className={`${td} text-right`}>{fmtCount(g.frontSize)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="px-3 py-1.5 text-[11px] text-dim">Per generation, over its surviving population; every figure on the validation span.</p>
    </div>
  );
}

function TrialsTable({ env, trials, pareto, dims }: { env: string; trials: readonly TrialView[]; pareto: readonly number[]; dims: readonly string[] }) {
  const [order, setOrder] = useState<"best" | "id">("best");
  const [all, setAll] = useState(false);
  const sorted = useMemo(() => (order === "best" ? sortTrialsBest(env === "trading" ? "trading" : "cartpole", trials) : trials.slice().sort((a, b) => a.id - b.id)), [order, trials, env]);
  const front = new Set(pareto);
  const rows = all ? sorted : sorted.slice(0, ROW_LIMIT);
  return (
    <div className="min-w-0 border-t border-line" data-testid="tune-trials" data-rows={trials.length}>
      <div className="flex flex-wrap items-center justify-between gap-2 px-4 py-2 text-xs">
        <span className="text-dim">
          {fmtCount(trials.length)} trial{trials.length === 1 ? "" : "s"} · objectives on the validation span
        </span>
        <label className="flex items-center gap-1.5 text-dim">
          order
          <select className="rounded-sm border border-line bg-bg px-1 py-0.5 text-xs" value={order} onChange={(e) => setOrder(e.target.value === "id" ? "id" : "best")}>
            <option value="best">best first</option>
            <option value="id">evaluation order</option>
          </select>
        </label>
      </div>
      <div className="overflow-x-auto">
        <table className="num w-full text-xs">
          <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
            <tr>
              <th className={th}>#</th>
              <th className={th}>Gen</th>
              {dims.map((d) => (
                <th key={d} className={`${th} text-right`} title={d}>
                  {hyperLabel(d)}
                </th>
              ))}
              {env === "trading" ? (
                <>
                  <th className={`${th} text-right`}>Sharpe (validation)</th>
                  <th className={`${th} text-right`}>Max DD (validation)</th>
                  <th className={`${th} text-right`}>Return (validation)</th>
                  <th className={`${th} text-right`}>Trades (validation)</th>
                </>
              ) : (
                <th className={`${th} text-right`}>Eval return (validation)</th>
              )}
              <th className={th}>Front</th>
              <th className={`${th} text-right`}>Seed</th>
              <th className={`${th} text-right`}>Time</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((t) => (
              <tr key={t.id} className={`border-t border-line ${front.has(t.id) ? "bg-accent/5" : ""}`} data-trial-id={t.id} data-front={front.has(t.id) || undefined}>
                <td className={`${td} text-dim`}>{t.id}</td>
                <td className={`${td} text-dim`}>{t.generation ?? "—"}</td>
                {dims.map((d) => (
                  <td key={d} className={`${td} text-right`}>
                    {fmtHyper(t.hyperparams[d])}
                  </td>
                ))}
                {t.status !== "ok" ? (
                  <td colSpan={env === "trading" ? 4 : 1} className="max-w-[40ch] truncate px-3 py-1 text-bad" title={t.error ?? undefined}>
                    failed{t.error ? `: ${t.error}` : ""}
                  </td>
                ) : env === "trading" ? (
                  <>
                    <td className={`${td} text-right`}>{fmtNum(t.valSharpe, 3)}</td>
                    <td className={`${td} text-right`}>{fmtPct(t.valMaxDrawdown)}</td>
                    <td className={`${td} text-right`}>{fmtPct(t.valTotalReturn)}</td>
                    <td className={`${td} text-right`}>{fmtCount(t.valTrades)}</td>
                  </>
                ) : (
                  <td className={`${td} text-right`}>{fmtNum(t.evalReturn, 1)}</td>
                )}
                <td className={td}>{front.has(t.id) ? <span className="text-accent">front</span> : ""}{t.live ? <span className="text-info"> running gen</span> : ""}</td>
                <td className={`${td} text-right text-dim`}>{t.seed ?? "—"}</td>
                <td className={`${td} text-right text-dim`}>{fmtSeconds(t.seconds)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {sorted.length > rows.length ? (
        <button type="button" className="px-4 py-2 text-xs text-accent underline" onClick={() => setAll(true)}>
          Show all {fmtCount(sorted.length)} trials
        </button>
      ) : null}
    </div>
  );
}
