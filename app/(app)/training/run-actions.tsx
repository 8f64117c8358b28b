"use client";
import { useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { ENGINE_OFFLINE } from "./model";

const btn = "rounded-sm border px-2 py-0.5 text-xs disabled:opacity-40";

/**
 * Stop (a running run: it stops after the current iteration and keeps a
 * checkpoint), Resume (a stopped run, exactly from its checkpoint; a run with
 * no checkpoint starts over), Reset (a stopped or failed run: forgets its
 * checkpoint and curves). Trader role.
 */
export function RunActions({ runId, status, canRun, onChanged, compact = false }: { runId: string; status: string; canRun: boolean; onChanged?: () => void; compact?: boolean }) {
  const utils = trpc.useUtils();
  const [error, setError] = useState<string | null>(null);
  const done = () => {
    setError(null);
    void utils.training.runs.invalidate();
    void utils.training.run.invalidate({ id: runId });
    onChanged?.();
  };
  const fail = (err: { message: string; data?: { code?: string } | null }) => setError(err.data?.code === "SERVICE_UNAVAILABLE" ? ENGINE_OFFLINE : err.message);
  const stop = trpc.training.stop.useMutation({ onSuccess: done, onError: fail });
  const resume = trpc.training.resume.useMutation({ onSuccess: done, onError: fail });
  const reset = trpc.training.reset.useMutation({ onSuccess: done, onError: fail });
  const busy = stop.isPending || resume.isPending || reset.isPending;
  if (!canRun) return null;
  return (
    <div className={`flex flex-wrap items-center gap-1.5 ${compact ? "" : "min-w-0"}`}>
      {status === "running" ? (
        <button type="button" data-testid={`stop-${runId}`} className={`${btn} border-warn/50 text-warn hover:bg-warn/10`} disabled={busy} onClick={() => stop.mutate({ runId })}>
          {stop.isPending ? "Stopping…" : "Stop"}
        </button>
      ) : null}
      {status === "stopped" ? (
        <button type="button" data-testid={`resume-${runId}`} className={`${btn} border-accent/50 text-accent hover:bg-accent/10`} disabled={busy} onClick={() => resume.mutate({ runId })}>
          {resume.isPending ? "Resuming…" : "Resume"}
        </button>
      ) : null}
      {status === "stopped" || status === "failed" ? (
        <button
          type="button"
          data-testid={`reset-${runId}`}
          className={`${btn} border-line text-dim hover:text-fg`}
          disabled={busy}
          onClick={() => {
            if (window.confirm("Reset this run? Its checkpoint and curves are deleted; resuming then starts over from step 0.")) reset.mutate({ runId });
          }}
        >
          {reset.isPending ? "Resetting…" : "Reset"}
        </button>
      ) : null}
      {error ? (
        <span role="alert" className="basis-full text-xs whitespace-normal text-bad" data-testid={`action-error-${runId}`}>
          {error}
        </span>
      ) : null}
    </div>
  );
}
