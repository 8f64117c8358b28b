"use client";
import { Fragment } from "react";
import { StatusBadge } from "@/app/(app)/backtests/ui";
import { type TuneEvent, type TuneRowLike, currentEvent, fmtCount, fmtIso, isActive, jobTitle, toJobView } from "./model";

export type TuneListRow = TuneRowLike & { id: string; job: unknown; createdAt: string; finishedAt: string | null };

/** Past searches, newest first; the live event overrides the stored progress; a click opens one. */
export function TuneRunsTable({ rows, latest, selected, onSelect }: { rows: readonly TuneListRow[]; latest: ReadonlyMap<string, TuneEvent>; selected: string | null; onSelect: (id: string) => void }) {
  if (rows.length === 0) return <p className="px-4 py-6 text-sm text-dim">No hyperparameter search has been run on this installation yet.</p>;
  const th = "px-3 py-2 font-normal whitespace-nowrap";
  const td = "px-3 py-1.5 whitespace-nowrap";
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-sm" data-testid="tune-runs-table">
        <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
          <tr>
            <th className={th}>Created (UTC)</th>
            <th className={th}>Search</th>
            <th className={th}>Hyperparameters</th>
            <th className={`${th} text-right`}>Population × gens</th>
            <th className={`${th} text-right`}>Steps / trial</th>
            <th className={`${th} text-right`}>Progress</th>
            <th className={th}>Status</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const job = toJobView(r.job);
            const ev = currentEvent(r, latest.get(r.id));
            const status = ev?.status ?? r.status;
            const done = ev?.done ?? r.done;
            const total = ev && ev.total > 0 ? ev.total : r.total;
            const error = status === "failed" ? (ev?.error ?? r.error) : null;
            return (
              <Fragment key={r.id}>
                <tr
                  className={`cursor-pointer border-t border-line hover:bg-panel-2 ${selected === r.id ? "bg-panel-2" : ""}`}
                  data-testid={`tune-row-${r.id}`}
                  data-status={status}
                  aria-selected={selected === r.id}
                  onClick={() => onSelect(r.id)}
                >
                  <td className={`${td} num text-xs text-dim`}>
                    <a
                      href={`?id=${encodeURIComponent(r.id)}`}
                      className="hover:text-fg"
                      onClick={(e) => {
                        e.preventDefault();
                        e.stopPropagation();
                        onSelect(r.id);
                      }}
                    >
                      {fmtIso(r.createdAt)}
                    </a>
                  </td>
                  <td className={`${td} num text-xs`}>{jobTitle(job)}</td>
                  <td className={`${td} num max-w-[32ch] truncate text-xs text-dim`} title={job.dims.join(", ")}>
                    {job.dims.join(", ") || "—"}
                  </td>
                  <td className={`${td} num text-right text-xs`}>
                    {fmtCount(job.population)} × {fmtCount(job.generations)}
                  </td>
                  <td className={`${td} num text-right text-xs`}>{fmtCount(job.steps)}</td>
                  <td className={`${td} num text-right text-xs`}>
                    {fmtCount(done)} / {fmtCount(total)}
                  </td>
                  <td className={td}>
                    <StatusBadge status={status} />
                    {isActive(status) && total > 0 ? <span className="num ml-2 text-[11px] text-dim">{Math.floor((done / total) * 100)}%</span> : null}
                  </td>
                </tr>
                {error ? (
                  <tr className="cursor-pointer" onClick={() => onSelect(r.id)}>
                    <td colSpan={7} className="px-3 pb-2 text-xs text-bad">
                      <span className="sticky left-3 block max-w-[min(80ch,calc(100vw-4rem))] break-words">error: {error}</span>
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
