"use client";
import Link from "next/link";
import { Fragment, useState } from "react";
import { useRouter } from "next/navigation";
import { ProgressBar, StatusBadge } from "@/app/(app)/backtests/ui";
import type { RouterOutputs } from "./types";
import { type TrainEvent, MAX_COMPARE, fmtIso, fmtProgress, fmtValue, runState } from "./model";
import { RunActions } from "./run-actions";

type RunRow = RouterOutputs["training"]["runs"][number];

/**
 * Training runs, newest first: status and steps from the stored row or the
 * stream's latest event (whichever is newer; a progress bar while running),
 * the latest mean return over 100 episodes, and the run's controls. Tick
 * runs to compare their curves.
 */
export function RunsTable({ rows, latest, canRun }: { rows: RunRow[]; latest: ReadonlyMap<string, TrainEvent>; canRun: boolean }) {
  const router = useRouter();
  const [picked, setPicked] = useState<string[]>([]);
  if (rows.length === 0) return <p className="px-4 py-6 text-sm text-dim">No training run on this installation yet. Start one above: CartPole with PPO is the quickest check.</p>;
  const th = "px-3 py-2 font-normal whitespace-nowrap";
  const td = "px-3 py-1.5 whitespace-nowrap";
  const running = rows.filter((r) => runState(r, latest.get(r.id)).status === "running").length;
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : p.length > MAX_COMPARE ? p : [...p, id]));
  const compareHref = picked.length >= 2 ? `/training/${encodeURIComponent(picked[0]!)}?compare=${picked.slice(1).map(encodeURIComponent).join(",")}` : null;
  return (
    <div>
      <div className="flex flex-wrap items-center gap-2 px-4 py-2 text-xs text-dim">
        <span>Tick two or more runs to compare their curves.</span>
        {compareHref ? (
          <Link href={compareHref} data-testid="compare-selected" className="rounded-sm border border-accent/50 px-2 py-0.5 text-accent hover:bg-accent/10">
            Compare {picked.length}
          </Link>
        ) : null}
        {running > 1 ? <span className="text-warn">{running} runs marked running: the engine trains one at a time, the others wait in line.</span> : null}
      </div>
      <div className="overflow-x-auto">
        <table className="w-full text-sm">
          <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
            <tr>
              <th className={th}>
                <span className="sr-only">Compare</span>
              </th>
              <th className={th}>Name</th>
              <th className={th}>Env / algo</th>
              <th className={`${th} text-right`}>Seed</th>
              <th className={th}>Status</th>
              <th className={th}>Steps / total</th>
              <th className={`${th} text-right`} title="mean return of the last 100 training episodes">
                Mean return (100 ep)
              </th>
              <th className={th}>Created (UTC)</th>
              <th className={th}>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const s = runState(row, latest.get(row.id));
              const href = `/training/${encodeURIComponent(row.id)}`;
              return (
                <Fragment key={row.id}>
                  <tr className="border-t border-line align-middle hover:bg-panel-2" data-testid={`run-row-${row.id}`} data-status={s.status}>
                    <td className={td}>
                      <input type="checkbox" aria-label={`Compare ${row.name}`} checked={picked.includes(row.id)} onChange={() => toggle(row.id)} />
                    </td>
                    <td className={`${td} max-w-[16rem] truncate`}>
                      <Link href={href} className="text-fg hover:text-accent" title={row.name}>
                        {row.name}
                      </Link>
                    </td>
                    <td className={`${td} num text-xs`}>
                      {row.env === "cartpole" ? "CartPole" : "trading"} <span className="text-dim">·</span> {row.algo.toUpperCase()}
                    </td>
                    <td className={`${td} num text-right text-xs`}>{row.seed}</td>
                    <td className={td}>
                      <StatusBadge status={s.status} />
                    </td>
                    <td className={`${td} text-xs`}>
                      <div className="flex min-w-44 items-center gap-2">
                        {s.status === "running" ? <ProgressBar done={s.step} total={s.totalSteps} label={`${row.name} progress`} /> : null}
                        <span className="num text-[11px] text-dim" data-testid={`run-steps-${row.id}`}>
                          {fmtProgress(s.step, s.totalSteps)}
                        </span>
                      </div>
                    </td>
                    <td className={`${td} num text-right text-xs`} title={s.meanReturn100 === null ? "no episode finished yet, or not in the list: open the run" : undefined}>
                      {fmtValue(s.meanReturn100)}
                    </td>
                    <td className={`${td} num text-xs text-dim`}>{fmtIso(row.createdAt)}</td>
                    <td className={td}>
                      <div className="flex items-center gap-1.5">
                        <RunActions runId={row.id} status={s.status} canRun={canRun} compact />
                        <button type="button" className="rounded-sm border border-line px-2 py-0.5 text-xs text-dim hover:text-fg" onClick={() => router.push(href)}>
                          Open
                        </button>
                      </div>
                    </td>
                  </tr>
                  {s.status === "failed" && s.error ? (
                    <tr>
                      <td colSpan={9} className="px-3 pb-2 text-xs text-bad">
                        <span className="sticky left-3 block max-w-[min(80ch,calc(100vw-4rem))] break-words">error: {s.error}</span>
                      </td>
                    </tr>
                  ) : null}
                  {s.status === "stopped" && s.error ? (
                    <tr>
                      <td colSpan={9} className="px-3 pb-2 text-xs text-warn">
                        <span className="sticky left-3 block max-w-[min(80ch,calc(100vw-4rem))] break-words">{s.error}</span>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
