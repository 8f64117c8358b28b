"use client";
import { useEffect, useMemo, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { hasRole, isRole } from "@/server/auth/roles";
import { Section } from "@/app/(app)/backtests/ui";
import { toOptimizationView } from "./model";
import { OptimizeForm } from "./optimize-form";
import { OptimizeProgress } from "./optimize-progress";
import { RunsList } from "./runs-list";
import { useOptimizeProgress } from "./use-optimize-progress";

/** /optimize: the job form, the live progress of the run just started, and the past runs. */
export function OptimizeView() {
  const me = trpc.users.me.useQuery();
  const { progress, stream } = useOptimizeProgress();
  const [active, setActive] = useState<{ id: string; title: string; objective: string; kind: string } | null>(null);

  const activeEvent = active ? progress.get(active.id) : undefined;
  const anyRunning = [...progress.values()].some((p) => p.status === "running");
  // The active run's row, polled while it runs: the fallback when the stream is down or misses its end.
  const activeRow = trpc.backtest.optimization.useQuery(
    { id: active?.id ?? "" },
    {
      enabled: active !== null,
      refetchInterval: (q) => (q.state.data && q.state.data.status !== "running") || (activeEvent && activeEvent.status !== "running") ? false : 2500,
    },
  );
  const activeView = useMemo(() => (activeRow.data ? toOptimizationView(activeRow.data) : undefined), [activeRow.data]);
  const runs = trpc.backtest.optimizations.useQuery(undefined, {
    refetchInterval: (q) => (anyRunning || (q.state.data ?? []).some((r) => r.status === "running") ? 2500 : false),
  });

  const activeStatus = !active ? null : activeEvent && activeEvent.status !== "running" ? activeEvent.status : activeView && activeView.status !== "running" ? activeView.status : "running";
  const failure = useMemo(() => {
    if (!active || activeStatus !== "failed") return null;
    const message = activeEvent?.error ?? activeView?.error ?? null;
    return message ? { id: active.id, message } : null;
  }, [active, activeStatus, activeEvent?.error, activeView?.error]);

  // A run that ends refreshes the list at once.
  const utils = trpc.useUtils();
  const finished = [...progress.values()].filter((p) => p.status !== "running").length;
  useEffect(() => {
    if (finished > 0) void utils.backtest.optimizations.invalidate();
  }, [finished, utils]);

  const role = me.data?.role;
  const canRun = isRole(role) ? hasRole(role, "trader") : true; // unknown yet: let the server decide

  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-lg font-semibold">Optimise</h1>
        <p className="mt-0.5 text-xs text-dim">Search a built-in strategy&apos;s parameters on stored data: a grid, a genetic search, or a walk-forward analysis that checks the choice out of sample.</p>
      </div>
      <OptimizeForm
        canRun={canRun}
        busy={activeStatus === "running"}
        failure={failure}
        onStarted={(id, title, objective, kind) => {
          setActive({ id, title, objective, kind });
          void utils.backtest.optimizations.invalidate();
        }}
      />
      {active ? (
        <OptimizeProgress
          id={active.id}
          title={active.title}
          objective={active.objective}
          kind={active.kind}
          event={activeEvent}
          fallback={activeView ? { status: activeView.status, error: activeView.error, progress: activeView.progress } : undefined}
          stream={stream}
          onClose={() => setActive(null)}
        />
      ) : null}
      <Section title="Past optimisations" testId="optimize-runs" right={<span className="num text-[11px] text-dim">{runs.data ? `${runs.data.length} newest` : ""}</span>}>
        {runs.isLoading ? <p className="px-4 py-6 text-sm text-dim">Loading…</p> : null}
        {runs.error ? <p role="alert" className="px-4 py-6 text-sm text-bad">{runs.error.message}</p> : null}
        {runs.data ? <RunsList rows={runs.data} progress={progress} /> : null}
      </Section>
    </div>
  );
}

