"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { Fragment } from "react";
import { fmtInt } from "@/app/(app)/markets/format";
import type { BacktestProgressData } from "@/engine/events";
import { fmtMoney, fmtNum, fmtParams, fmtPct, fmtTime, metricValue, type ParamValue } from "./report-model";
import type { RunSummary } from "./types";
import { StatusBadge, signCls } from "./ui";

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function paramsOf(run: RunSummary): Record<string, ParamValue> {
  const s = isObj(run.metrics) && isObj(run.metrics.strategy) ? run.metrics.strategy.params : isObj(run.config) ? run.config.params : undefined;
  return isObj(s) ? (Object.fromEntries(Object.entries(s).filter(([, x]) => ["string", "number", "boolean"].includes(typeof x))) as Record<string, ParamValue>) : {};
}

function currencyOf(run: RunSummary): string {
  const i = isObj(run.metrics) ? run.metrics.instrument : undefined;
  return isObj(i) && typeof i.currency === "string" ? i.currency : "";
}

/** Past runs, newest first (as backtest.list returns them); a row opens its report. */
export function RunsTable({ runs, progress }: { runs: RunSummary[]; progress: ReadonlyMap<string, BacktestProgressData> }) {
  const router = useRouter();
  if (runs.length === 0) return <p className="px-4 py-6 text-sm text-dim">No backtest has been run on this installation yet.</p>;
  const th = "px-3 py-2 font-normal whitespace-nowrap";
  const td = "px-3 py-1.5 whitespace-nowrap";
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-sm" data-testid="backtest-runs">
        <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
          <tr>
            <th className={th}>Created (UTC)</th>
            <th className={th}>Strategy</th>
            <th className={th}>Data</th>
            <th className={th}>Span</th>
            <th className={`${th} text-right`}>Bars</th>
            <th className={`${th} text-right`}>Fills</th>
            <th className={`${th} text-right`}>Final value</th>
            <th className={`${th} text-right`}>Return</th>
            <th className={`${th} text-right`}>Sharpe</th>
            <th className={`${th} text-right`}>Max DD</th>
            <th className={th}>Status</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => {
            const href = `/backtests/${encodeURIComponent(r.id)}`;
            const daily = r.timeframe === "1d";
            const ret = metricValue(r.metrics, "totalReturn");
            const live = r.status === "running" ? progress.get(r.id) : undefined;
            const params = fmtParams(paramsOf(r));
            return (
              <Fragment key={r.id}>
                <tr className="cursor-pointer border-t border-line hover:bg-panel-2" data-testid={`run-row-${r.id}`} onClick={() => router.push(href)}>
                  <td className={`${td} num text-xs text-dim`}>
                    <Link href={href} className="hover:text-fg" onClick={(e) => e.stopPropagation()}>
                      {r.createdAt.slice(0, 16).replace("T", " ")}
                    </Link>
                  </td>
                  <td className={`${td} max-w-64`}>
                    <Link href={href} className="num text-fg hover:text-accent" onClick={(e) => e.stopPropagation()}>
                      {r.strategy}
                    </Link>
                    <div className="num truncate text-[11px] text-dim" title={params}>{params}</div>
                  </td>
                  <td className={`${td} num text-xs`}>
                    {r.symbol} <span className="text-dim">{r.timeframe}</span>
                  </td>
                  <td className={`${td} num text-xs text-dim`}>{r.firstTs !== null ? `${fmtTime(r.firstTs, daily)} → ${fmtTime(r.lastTs, daily)}` : "—"}</td>
                  <td className={`${td} num text-right text-xs`}>{r.status === "running" || r.status === "failed" ? "—" : fmtInt(r.bars)}</td>
                  <td className={`${td} num text-right text-xs`}>{r.status === "running" || r.status === "failed" ? "—" : fmtInt(r.fills)}</td>
                  <td className={`${td} num text-right text-xs`}>{fmtMoney(r.finalValue, currencyOf(r))}</td>
                  <td className={`${td} num text-right text-xs ${signCls(ret)}`}>{fmtPct(ret, 2, true)}</td>
                  <td className={`${td} num text-right text-xs`}>{fmtNum(metricValue(r.metrics, "sharpe"), 2)}</td>
                  <td className={`${td} num text-right text-xs`}>{fmtPct(metricValue(r.metrics, "maxDrawdownPct"))}</td>
                  <td className={td}>
                    <StatusBadge status={r.status} />
                    {live && live.total > 0 ? <span className="num ml-2 text-[11px] text-dim">{Math.floor((live.done / live.total) * 100)}%</span> : null}
                  </td>
                </tr>
                {r.status === "failed" && r.error ? (
                  <tr className="cursor-pointer" onClick={() => router.push(href)}>
                    <td colSpan={11} className="px-3 pb-2 text-xs text-bad">
                      <span className="sticky left-3 block max-w-[min(80ch,calc(100vw-4rem))] break-words">error: {r.error}</span>
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
