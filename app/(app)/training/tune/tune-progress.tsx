"use client";
import type { ReactNode } from "react";
import { useEffect, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { fmtNum, fmtPct } from "@/app/(app)/backtests/report-model";
import type { StreamState } from "@/app/(app)/backtests/use-backtest-progress";
import { ProgressBar, StatusBadge } from "@/app/(app)/backtests/ui";
import { ENGINE_OFFLINE } from "../model";
import { type TuneEvent, type TuneJobView, type TuneRowLike, currentEvent, fmtCount, fmtGeneration, fmtHyperList, isActive } from "./model";

/**
 * Live progress of one search: the generation being evaluated, individuals
 * settled over the planned population x (generations + 1), the current
 * Pareto front's size and best point (validation), and the actions (Stop,
 * Resume) passed in.
 */
export function TuneProgress({ title, row, event, job, stream, actions }: { title: string; row: TuneRowLike; event: TuneEvent | undefined; job: TuneJobView; stream: StreamState; actions?: ReactNode }) {
  const ev = currentEvent(row, event);
  const status = ev?.status ?? row.status;
  const done = ev ? ev.done : row.done;
  const total = ev && ev.total > 0 ? ev.total : row.total;
  const error = status === "failed" ? (ev?.error ?? row.error) : null;
  const front = ev?.front ?? [];
  const env = job.env ?? "cartpole";
  const bestFront = front.length
    ? front.reduce((a, b) => {
        const ya = "valSharpe" in a.objectives ? a.objectives.valSharpe : a.objectives.evalReturn;
        const yb = "valSharpe" in b.objectives ? b.objectives.valSharpe : b.objectives.evalReturn;
        return yb > ya ? b : a;
      })
    : null;
  const generationText = ev && isActive(status) ? fmtGeneration(ev.generation, job.generations) : row.generation >= 0 ? `last completed: ${fmtGeneration(row.generation, job.generations)}` : "no generation completed yet";
  return (
    <div data-testid="tune-progress" data-status={status} className="border border-line bg-panel">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-line px-4 py-3">
        <h2 className="text-sm font-semibold">
          <span className="num">{title}</span>
        </h2>
        <div className="flex flex-wrap items-center gap-2">
          {actions}
          <StatusBadge status={status} />
        </div>
      </div>
      <div className="space-y-2 px-4 py-3 text-sm">
        <div className="flex flex-wrap items-center gap-3">
          <ProgressBar done={done} total={Math.max(total, 1)} label="Tuning progress" />
          <span className="num text-xs text-dim" data-testid="tune-progress-count">
            {fmtCount(done)} / {fmtCount(total)} individuals · {total > 0 ? Math.floor((done / total) * 100) : 0}%
          </span>
        </div>
        <p className="num text-xs text-dim" data-testid="tune-progress-generation">
          {generationText} · population {fmtCount(job.population)} · {fmtCount(job.steps)} steps a trial
        </p>
        {bestFront ? (
          <p className="num text-xs break-words" data-testid="tune-progress-front">
            <span className="text-dim">Pareto front so far: {fmtCount(front.length)} trial{front.length === 1 ? "" : "s"} · best </span>
            {"valSharpe" in bestFront.objectives ? (
              <span className="text-fg">
                Sharpe (validation) {fmtNum(bestFront.objectives.valSharpe, 3)}, max DD (validation) {fmtPct(bestFront.objectives.valMaxDrawdown)}
              </span>
            ) : (
              <span className="text-fg">evaluation return (validation) {fmtNum(bestFront.objectives.evalReturn, 1)}</span>
            )}
            <span className="text-dim"> · trial #{bestFront.id} · {fmtHyperList(bestFront.hyperparams, job.dims.length ? job.dims : undefined)}</span>
          </p>
        ) : isActive(status) ? (
          <p className="text-xs text-dim">{status === "queued" ? "Queued: one search runs at a time." : "Waiting for the first trial to finish…"}</p>
        ) : null}
        {status === "stopped" ? <p className="text-xs text-dim">Stopped. Resume continues from the stored state: completed generations and finished trials are not trained again.</p> : null}
        {error ? (
          <p role="alert" className="border border-bad/40 bg-bad/10 px-3 py-2 text-xs break-words text-bad" data-testid="tune-error">
            The search failed: {error}
          </p>
        ) : null}
        {stream === "offline" && isActive(status) && env ? <p className="text-xs text-warn">The live stream is not connected; the stored progress is polled meanwhile.</p> : null}
      </div>
    </div>
  );
}

const btn = "rounded-sm border px-2 py-0.5 text-xs disabled:opacity-40";

/** Stop (queued or running), Resume (stopped or failed), Extend (done: more generations). Trader role. */
export function TuneActions({ tuneId, status, generations, canRun, onChanged }: { tuneId: string; status: string; generations: number | null; canRun: boolean; onChanged?: () => void }) {
  const utils = trpc.useUtils();
  const [error, setError] = useState<string | null>(null);
  const [more, setMore] = useState("");
  const done = () => {
    setError(null);
    void utils.training.tunings.invalidate();
    void utils.training.tuning.invalidate({ id: tuneId });
    onChanged?.();
  };
  const fail = (err: { message: string; data?: { code?: string } | null }) => setError(err.data?.code === "SERVICE_UNAVAILABLE" ? ENGINE_OFFLINE : err.message);
  const stop = trpc.training.tune.stop.useMutation({ onSuccess: done, onError: fail });
  const resume = trpc.training.tune.resume.useMutation({ onSuccess: done, onError: fail });
  const busy = stop.isPending || resume.isPending;
  // a stop applies to this run of the search: forget it once the search has ended (a resume can be stopped again)
  const ended = !isActive(status);
  const resetStop = stop.reset;
  useEffect(() => {
    if (ended) resetStop();
  }, [ended, resetStop]);
  if (!canRun) return null;
  const extendTo = Number(more);
  return (
    <div className="flex flex-wrap items-center gap-1.5">
      {isActive(status) ? (
        <button
          type="button"
          data-testid="tune-stop"
          className={`${btn} border-warn/50 text-warn hover:bg-warn/10`}
          disabled={busy || stop.isSuccess}
          title="Trials in flight stop at their next training iteration; finished trials are kept for the resume"
          onClick={() => stop.mutate({ tuneId })}
        >
          {stop.isPending ? "Stopping…" : stop.isSuccess ? "Stop requested: stopping the trials in flight…" : "Stop"}
        </button>
      ) : null}
      {status === "stopped" || status === "failed" ? (
        <button type="button" data-testid="tune-resume" className={`${btn} border-accent/50 text-accent hover:bg-accent/10`} disabled={busy} onClick={() => resume.mutate({ tuneId })}>
          {resume.isPending ? "Resuming…" : "Resume"}
        </button>
      ) : null}
      {status === "done" ? (
        <span className="flex items-center gap-1">
          <input
            aria-label="Generations in total"
            data-testid="tune-extend-generations"
            className="num w-16 rounded-sm border border-line bg-bg px-1.5 py-0.5 text-xs"
            inputMode="numeric"
            placeholder={generations !== null ? String(generations + 2) : ""}
            value={more}
            onChange={(e) => setMore(e.target.value)}
          />
          <button
            type="button"
            data-testid="tune-extend"
            className={`${btn} border-accent/50 text-accent hover:bg-accent/10`}
            disabled={busy || !(Number.isInteger(extendTo) && generations !== null && extendTo > generations)}
            title="Continue the finished search up to this many generations"
            onClick={() => resume.mutate({ tuneId, generations: extendTo })}
          >
            {resume.isPending ? "Extending…" : "Extend"}
          </button>
        </span>
      ) : null}
      {error ? (
        <span role="alert" className="basis-full text-xs whitespace-normal text-bad" data-testid="tune-action-error">
          {error}
        </span>
      ) : null}
    </div>
  );
}
