"use client";
import { Fragment, useMemo, useState } from "react";
import { fmtInt } from "@/app/(app)/markets/format";
import { fmtNum, fmtPct } from "@/app/(app)/backtests/report-model";
import { signCls } from "@/app/(app)/backtests/ui";
import { type ParamValue, type SortDir, type SortKey, type StoredTrial, bestFirst, fmtObjective, objectiveLabel, pageOf, sortTrials } from "../model";

const PAGE = 50;

/**
 * Every trial, sortable by the objective, Sharpe, max drawdown, return,
 * trades and profit factor, 50 per page. Each row can start a full backtest
 * of its parameters. All figures are in-sample (walk-forward: on the trial's
 * fold's in-sample window).
 */
export function TrialsTable({
  trials,
  paramNames,
  objective,
  better,
  walkForward,
  bestId,
  frontIds,
  onBacktest,
  pending,
}: {
  trials: readonly StoredTrial[];
  paramNames: readonly string[];
  objective: string;
  better: "higher" | "lower";
  walkForward: boolean;
  bestId: number | null;
  frontIds?: ReadonlySet<number>;
  onBacktest?: (params: Record<string, ParamValue>, key: string) => void;
  pending: string | null;
}) {
  const [sort, setSort] = useState<{ key: SortKey; dir: SortDir }>({ key: "objective", dir: bestFirst("objective", better) });
  const [page, setPage] = useState(0);
  const sorted = useMemo(() => sortTrials(trials, sort.key, sort.dir), [trials, sort]);
  const paged = pageOf(sorted, page, PAGE);
  const failed = useMemo(() => trials.filter((t) => !t.ok).length, [trials]);
  const names = paramNames.length ? paramNames : [...new Set(trials.flatMap((t) => Object.keys(t.params)))];

  if (trials.length === 0) return <p className="p-4 text-sm text-dim" data-testid="trials-table">No trial finished.</p>;

  const by = (key: SortKey) => {
    setSort((s) => (s.key === key ? { key, dir: s.dir === "asc" ? "desc" : "asc" } : { key, dir: bestFirst(key, better) }));
    setPage(0);
  };
  const th = "px-2 py-2 font-normal whitespace-nowrap";
  const td = "px-2 py-1 whitespace-nowrap";
  const sortTh = (k: SortKey, label: string, title?: string) => (
    <th key={k} className={`${th} text-right`} aria-sort={sort.key === k ? (sort.dir === "asc" ? "ascending" : "descending") : "none"}>
      <button type="button" onClick={() => by(k)} title={title ?? `Sort by ${label}`} data-testid={`sort-${k}`} className={`uppercase tracking-wide hover:text-fg ${sort.key === k ? "text-fg" : ""}`}>
        {label}
        {sort.key === k ? (sort.dir === "asc" ? " ↑" : " ↓") : ""}
      </button>
    </th>
  );
  const btn = "rounded-sm border border-line px-2 py-1 text-xs text-dim hover:text-fg disabled:opacity-30";
  const cols = 1 + (walkForward ? 1 : 0) + names.length + 6 + (onBacktest ? 1 : 0);

  return (
    <div className="min-w-0" data-testid="trials-table" data-sort={sort.key} data-dir={sort.dir} data-count={trials.length}>
      <p className="px-3 pt-2 text-[11px] text-dim">
        {walkForward ? "In-sample figures: each trial ran on its fold's in-sample window." : "In-sample figures: every trial ran on the same data the best is chosen on."} Tap a column to sort; the backtest button runs those parameters on the same data and costs and opens the report.
        {failed ? ` ${fmtInt(failed)} failed trial${failed === 1 ? "" : "s"} (sorted last).` : ""}
      </p>
      <div className="overflow-x-auto">
        <table className="num w-full text-xs">
          <thead className="text-left text-[11px] text-dim">
            <tr>
              {sortTh("id", "#", "Sort by trial number")}
              {walkForward ? <th className={`${th} uppercase tracking-wide`}>Fold</th> : null}
              {names.map((n) => (
                <th key={n} className={`${th} text-right`}>
                  {n}
                </th>
              ))}
              {sortTh("objective", `${objectiveLabel(objective)} (obj.)`)}
              {sortTh("sharpe", "Sharpe")}
              {sortTh("maxDrawdownPct", "Max DD")}
              {sortTh("totalReturn", "Return")}
              {sortTh("trades", "Trades")}
              {sortTh("profitFactor", "PF", "Sort by profit factor")}
              {onBacktest ? <th className={th} /> : null}
            </tr>
          </thead>
          <tbody>
            {paged.rows.map((t) => {
              const m = t.ok ? t.metrics : null;
              const key = `trial-${t.id}`;
              const isBest = bestId !== null && t.id === bestId;
              return (
                <Fragment key={t.id}>
                  <tr className={`border-t border-line ${isBest ? "bg-accent/5" : ""}`} data-testid={`trial-row-${t.id}`}>
                    <td className={`${td} text-right text-dim`}>
                      {t.id}
                      {isBest ? <span className="ml-1 text-accent" title="best by the objective">★</span> : null}
                      {frontIds?.has(t.id) ? <span className="ml-1 text-info" title="on the Pareto front">◆</span> : null}
                    </td>
                    {walkForward ? <td className={`${td} text-dim`}>{t.fold !== undefined && t.fold !== null ? t.fold + 1 : "—"}</td> : null}
                    {names.map((n) => (
                      <td key={n} className={`${td} text-right`}>
                        {t.params[n] === undefined || t.params[n] === null ? "—" : String(t.params[n])}
                      </td>
                    ))}
                    <td className={`${td} text-right text-fg`}>{fmtObjective(objective, t.objective, objective === "profitFactor" && m?.profitFactorInfinite === true)}</td>
                    <td className={`${td} text-right`}>{fmtNum(m?.sharpe, 2)}</td>
                    <td className={`${td} text-right`}>{fmtPct(m?.maxDrawdownPct)}</td>
                    <td className={`${td} text-right ${signCls(m?.totalReturn)}`}>{fmtPct(m?.totalReturn, 2, true)}</td>
                    <td className={`${td} text-right`}>{m?.trades ?? "—"}</td>
                    <td className={`${td} text-right`}>{m ? (m.profitFactorInfinite ? "∞" : fmtNum(m.profitFactor, 2)) : "—"}</td>
                    {onBacktest ? (
                      <td className={td}>
                        <button
                          type="button"
                          data-testid={`trial-backtest-${t.id}`}
                          disabled={pending !== null}
                          onClick={() => onBacktest(Object.fromEntries(Object.entries(t.params).filter((e): e is [string, ParamValue] => e[1] !== null)), key)}
                          className="rounded-sm border border-line px-1.5 py-0.5 text-[11px] text-dim hover:border-accent hover:text-accent disabled:opacity-50"
                          title="Run a full backtest of these parameters (whole range, same costs) and open its report"
                        >
                          {pending === key ? "Starting…" : "Backtest"}
                        </button>
                      </td>
                    ) : null}
                  </tr>
                  {!t.ok && t.error ? (
                    <tr>
                      <td colSpan={cols} className="px-2 pb-1 text-[11px] text-bad">
                        <span className="sticky left-2 block max-w-[min(80ch,calc(100vw-4rem))] break-words">error: {t.error}</span>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="num flex flex-wrap items-center justify-between gap-2 border-t border-line px-3 py-2 text-xs text-dim">
        <span>
          {fmtInt(paged.page * PAGE + 1)}–{fmtInt(paged.page * PAGE + paged.rows.length)} of {fmtInt(trials.length)} trials
        </span>
        {paged.pages > 1 ? (
          <div className="flex items-center gap-1" role="group" aria-label="Trial pages">
            <button type="button" className={btn} disabled={paged.page === 0} onClick={() => setPage(0)} aria-label="First page">
              «
            </button>
            <button type="button" className={btn} disabled={paged.page === 0} onClick={() => setPage(paged.page - 1)} data-testid="trials-prev">
              Prev
            </button>
            <span className="px-1">
              {paged.page + 1} / {paged.pages}
            </span>
            <button type="button" className={btn} disabled={paged.page >= paged.pages - 1} onClick={() => setPage(paged.page + 1)} data-testid="trials-next">
              Next
            </button>
            <button type="button" className={btn} disabled={paged.page >= paged.pages - 1} onClick={() => setPage(paged.pages - 1)} aria-label="Last page">
              »
            </button>
          </div>
        ) : null}
      </div>
    </div>
  );
}
