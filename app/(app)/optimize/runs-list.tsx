"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { Fragment } from "react";
import { fmtInt } from "@/app/(app)/markets/format";
import type { OptimizeProgressData } from "@/engine/events";
import { StatusBadge } from "@/app/(app)/backtests/ui";
import { KIND_LABEL, fmtObjective, listFigures, objectiveLabel, toOptimizationView } from "./model";

/**
 * Past optimisations, newest first (as backtest.optimizations returns them).
 * Trials and the best objective come from the row when it carries them, else
 * from the run's latest stream event; "—" when neither is known (open the run).
 */
export function RunsList({ rows, progress }: { rows: Record<string, unknown>[]; progress: ReadonlyMap<string, OptimizeProgressData> }) {
  const router = useRouter();
  if (rows.length === 0) return <p className="px-4 py-6 text-sm text-dim">No optimisation has been run on this installation yet.</p>;
  const th = "px-3 py-2 font-normal whitespace-nowrap";
  const td = "px-3 py-1.5 whitespace-nowrap";
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-sm">
        <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
          <tr>
            <th className={th}>Created (UTC)</th>
            <th className={th}>Method</th>
            <th className={th}>Strategy</th>
            <th className={th}>Data</th>
            <th className={th}>Objective</th>
            <th className={`${th} text-right`}>Trials</th>
            <th className={`${th} text-right`}>Best (in-sample)</th>
            <th className={th}>Status</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const r = toOptimizationView(row);
            const ev = progress.get(r.id);
            const f = listFigures(r, row, ev);
            const href = `/optimize/${encodeURIComponent(r.id)}`;
            const status = r.status === "running" && ev && ev.status !== "running" ? ev.status : r.status;
            const pct = status === "running" ? (ev && ev.total > 0 ? ev.done / ev.total : r.progress) : null;
            return (
              <Fragment key={r.id}>
                <tr className="cursor-pointer border-t border-line hover:bg-panel-2" data-testid={`optimize-row-${r.id}`} data-status={status} onClick={() => router.push(href)}>
                  <td className={`${td} num text-xs text-dim`}>
                    <Link href={href} className="hover:text-fg" onClick={(e) => e.stopPropagation()}>
                      {r.createdAt ? r.createdAt.slice(0, 16).replace("T", " ") : "—"}
                    </Link>
                  </td>
                  <td className={`${td} num text-xs`}>{r.kind ? KIND_LABEL[r.kind] : "—"}</td>
                  <td className={`${td} num text-xs`}>
                    <Link href={href} className="text-fg hover:text-accent" onClick={(e) => e.stopPropagation()}>
                      {r.job.strategy ?? "—"}
                    </Link>
                  </td>
                  <td className={`${td} num text-xs`}>
                    {r.job.symbol ?? "—"} <span className="text-dim">{r.job.timeframe ?? ""}</span>
                  </td>
                  <td className={`${td} text-xs text-dim`}>{objectiveLabel(r.job.objective)}</td>
                  <td className={`${td} num text-right text-xs`} title={f.trials === null ? "not in the list; open the run" : undefined}>{f.trials !== null ? `${fmtInt(f.trials)}${f.total !== null && f.total !== f.trials ? ` / ${fmtInt(f.total)}` : ""}` : "—"}</td>
                  <td className={`${td} num text-right text-xs`} title={f.best === null ? "not in the list; open the run" : undefined}>
                    {fmtObjective(r.job.objective, f.best)}
                  </td>
                  <td className={td}>
                    <StatusBadge status={status} />
                    {pct !== null && pct !== undefined ? <span className="num ml-2 text-[11px] text-dim">{Math.floor(pct * 100)}%</span> : null}
                  </td>
                </tr>
                {status === "failed" && (r.error ?? ev?.error) ? (
                  <tr className="cursor-pointer" onClick={() => router.push(href)}>
                    <td colSpan={8} className="px-3 pb-2 text-xs text-bad">
                      <span className="sticky left-3 block max-w-[min(80ch,calc(100vw-4rem))] break-words">error: {r.error ?? ev?.error}</span>
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
