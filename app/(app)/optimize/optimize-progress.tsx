"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { trpc } from "@/app/_components/trpc";
import { fmtInt } from "@/app/(app)/markets/format";
import type { OptimizeProgressData } from "@/engine/events";
import type { StreamState } from "@/app/(app)/backtests/use-backtest-progress";
import { ProgressBar, StatusBadge } from "@/app/(app)/backtests/ui";
import { fmtObjective, fmtParamList, objectiveLabel, type OptStatus } from "./model";

/**
 * Live progress of an optimisation: trials done / planned and the best so far
 * from the stream, a Cancel button, and the result opened when it is done.
 * `fallback` is the stored row (polled every couple of seconds) in case the
 * stream is down or misses the end; its progress is a fraction the engine
 * stores every ~2 s.
 */
export function OptimizeProgress({
  id,
  title,
  objective,
  kind,
  event,
  fallback,
  stream,
  onClose,
  navigateOnDone = true,
}: {
  id: string;
  title: string;
  objective: string;
  kind?: string | null;
  event: OptimizeProgressData | undefined;
  fallback: { status: OptStatus; error: string | null; progress: number | null } | undefined;
  stream: StreamState;
  onClose?: () => void;
  navigateOnDone?: boolean;
}) {
  const router = useRouter();
  const cancel = trpc.backtest.cancelOptimization.useMutation();
  const status: OptStatus = event && event.status !== "running" ? event.status : fallback && fallback.status !== "running" ? fallback.status : "running";
  const error = event?.error ?? fallback?.error ?? null;
  const href = `/optimize/${encodeURIComponent(id)}`;
  const navigated = useRef(false);

  useEffect(() => {
    if (status === "done" && navigateOnDone && !navigated.current) {
      navigated.current = true;
      router.push(href);
    }
  }, [status, navigateOnDone, router, href]);

  const counted = event && event.total > 0;
  const frac = counted ? event.done / event.total : (fallback?.progress ?? null);
  const best = event?.best ?? null;

  return (
    <div data-testid="optimize-progress" data-status={status} className="border border-line bg-panel">
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
              <ProgressBar done={counted ? event.done : Math.round((frac ?? 0) * 1000)} total={counted ? event.total : 1000} label="Optimisation progress" />
              <span className="num text-xs text-dim" data-testid="optimize-progress-count">
                {counted
                  ? `${fmtInt(event.done)} / ${fmtInt(event.total)} trials · ${Math.floor(frac! * 100)}%`
                  : frac !== null && frac > 0
                    ? `${Math.floor(frac * 100)}% (stored progress; the live stream is not reporting)`
                    : "queued or starting, waiting for the engine…"}
              </span>
              <button
                type="button"
                data-testid="optimize-cancel"
                disabled={cancel.isPending || cancel.isSuccess}
                onClick={() => cancel.mutate({ optimizationId: id })}
                className="rounded-sm border border-line px-2 py-1 text-xs text-dim hover:border-bad hover:text-bad disabled:opacity-50"
              >
                {cancel.isPending ? "Cancelling…" : cancel.isSuccess ? "Cancel requested" : "Cancel"}
              </button>
            </div>
            {(event?.kind ?? kind) === "walk_forward" ? (
              <p className="text-xs text-dim" data-testid="optimize-best-so-far">
                Walk-forward picks the best parameters per fold on its in-sample window; the folds and the out-of-sample result show when it is done.
              </p>
            ) : (
              <p className="num text-xs break-words" data-testid="optimize-best-so-far">
                <span className="text-dim">best so far ({objectiveLabel(objective)}, in-sample): </span>
                {best ? (
                  <>
                    <span className="text-fg">{fmtObjective(objective, best.objective)}</span>
                    <span className="text-dim"> · {fmtParamList(best.params as Record<string, string | number | boolean>)}</span>
                  </>
                ) : (
                  <span className="text-dim">none yet</span>
                )}
              </p>
            )}
            {stream === "offline" ? <p className="text-xs text-warn">The live stream is not connected; the stored progress is polled meanwhile.</p> : null}
            {cancel.error ? <p role="alert" className="text-xs text-bad">{cancel.error.data?.code === "SERVICE_UNAVAILABLE" ? "The engine is offline: the cancel did not reach it." : cancel.error.message}</p> : null}
          </>
        ) : null}
        {status === "done" ? (
          <p className="text-dim">
            Done{event && event.total > 0 ? ` · ${fmtInt(event.done)} trials` : ""}
            {best ? ` · best ${objectiveLabel(objective)} ${fmtObjective(objective, best.objective)}` : ""}.{navigateOnDone ? " Opening the result… " : " "}
            <Link className="text-accent underline" href={href}>
              Open result
            </Link>
          </p>
        ) : null}
        {status === "cancelled" ? (
          <p>
            Cancelled. The trials run before the cancel are kept:{" "}
            <Link className="text-accent underline" href={href}>
              open them
            </Link>
            .
          </p>
        ) : null}
        {status === "failed" ? (
          <p role="alert" className="border border-bad/40 bg-bad/10 px-3 py-2 break-words text-bad">
            The optimisation failed: {error ?? "no error message was recorded"}
          </p>
        ) : null}
        {status !== "running" && onClose ? (
          <button type="button" onClick={onClose} className="text-xs text-dim hover:text-fg">
            Dismiss
          </button>
        ) : null}
      </div>
    </div>
  );
}
