"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { trpc } from "@/app/_components/trpc";
import type { BacktestProgressData } from "@/engine/events";
import { fmtInt } from "@/app/(app)/markets/format";
import { fmtMoney } from "./report-model";
import type { StreamState } from "./use-backtest-progress";
import { ProgressBar, StatusBadge } from "./ui";

export type RunState = "running" | "done" | "failed" | "cancelled";

/**
 * Live progress of the run just started: bars done / total from the stream,
 * a cancel button, and the report opened when the run is done. `fallback` is
 * the run's row from backtest.list (polled) in case the stream misses the end.
 */
export function RunProgress({
  runId,
  event,
  fallback,
  stream,
  onClose,
  navigateOnDone = true,
}: {
  runId: string;
  event: BacktestProgressData | undefined;
  fallback: { status: RunState; error: string | null; bars: number; finalValue: number | null; fills: number } | undefined;
  stream: StreamState;
  onClose: () => void;
  navigateOnDone?: boolean;
}) {
  const router = useRouter();
  const cancel = trpc.backtest.cancel.useMutation();
  const status: RunState = event && event.status !== "running" ? event.status : fallback && fallback.status !== "running" ? fallback.status : "running";
  const error = event?.error ?? fallback?.error ?? null;
  const finalValue = event?.finalValue ?? fallback?.finalValue ?? null;
  const fills = event?.fills ?? fallback?.fills ?? null;
  const navigated = useRef(false);

  useEffect(() => {
    if (status === "done" && navigateOnDone && !navigated.current) {
      navigated.current = true;
      router.push(`/backtests/${encodeURIComponent(runId)}`);
    }
  }, [status, navigateOnDone, router, runId]);

  const title = event ? `${event.strategy} on ${event.symbol} ${event.timeframe}` : "Backtest";
  return (
    <div data-testid="backtest-progress" data-status={status} className="border border-line bg-panel">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-line px-4 py-3">
        <h2 className="text-sm font-semibold">
          <span className="num">{title}</span>
        </h2>
        <StatusBadge status={status} />
      </div>
      <div className="space-y-2 px-4 py-3 text-sm">
        {status === "running" ? (
          <>
            <div className="flex flex-wrap items-center gap-3">
              <ProgressBar done={event?.done ?? 0} total={event?.total ?? 0} label="Backtest progress" />
              <span className="num text-xs text-dim">
                {event ? `${fmtInt(event.done)} / ${fmtInt(event.total)} bars${event.total > 0 ? ` · ${Math.floor((event.done / event.total) * 100)}%` : ""}` : "queued, waiting for the engine…"}
              </span>
              <button
                type="button"
                disabled={cancel.isPending}
                onClick={() => cancel.mutate({ runId })}
                className="rounded-sm border border-line px-2 py-1 text-xs text-dim hover:border-bad hover:text-bad disabled:opacity-50"
              >
                {cancel.isPending ? "Cancelling…" : "Cancel"}
              </button>
            </div>
            {stream === "offline" ? <p className="text-xs text-warn">The live stream is not connected; progress updates resume when it is. The run list below refreshes meanwhile.</p> : null}
            {cancel.error ? <p role="alert" className="text-xs text-bad">{cancel.error.data?.code === "SERVICE_UNAVAILABLE" ? "The engine is offline: the cancel did not reach it." : cancel.error.message}</p> : null}
          </>
        ) : null}
        {status === "done" ? (
          <p className="text-dim">
            Done{fills !== null ? ` · ${fmtInt(fills)} fills` : ""}
            {finalValue !== null ? ` · final value ${fmtMoney(finalValue)}` : ""}. Opening the report…{" "}
            <Link className="text-accent underline" href={`/backtests/${encodeURIComponent(runId)}`}>
              Open report
            </Link>
          </p>
        ) : null}
        {status === "cancelled" ? (
          <p>
            Cancelled. The bars run before the cancel are kept as a partial report:{" "}
            <Link className="text-accent underline" href={`/backtests/${encodeURIComponent(runId)}`}>
              open it
            </Link>
            .
          </p>
        ) : null}
        {status === "failed" ? (
          <p role="alert" className="border border-bad/40 bg-bad/10 px-3 py-2 text-bad">
            The backtest failed: {error ?? "no error message was recorded"}
          </p>
        ) : null}
        {status !== "running" ? (
          <button type="button" onClick={onClose} className="text-xs text-dim hover:text-fg">
            Dismiss
          </button>
        ) : null}
      </div>
    </div>
  );
}
