"use client";
import { useEffect, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { hasRole, isRole } from "@/server/auth/roles";
import { NewBacktestForm } from "./new-backtest-form";
import { RunProgress } from "./run-progress";
import { RunsTable } from "./runs-table";
import { Section } from "./ui";
import { useBacktestProgress } from "./use-backtest-progress";

export function BacktestsView() {
  const me = trpc.users.me.useQuery();
  const { progress, stream } = useBacktestProgress();
  const [active, setActive] = useState<string | null>(null);
  const [limit, setLimit] = useState(50);

  const activeEvent = active ? progress.get(active) : undefined;
  const anyRunning = [...progress.values()].some((p) => p.status === "running");
  // Polled while a run is in progress: the fallback when the stream misses its end.
  const runs = trpc.backtest.list.useQuery(
    { limit },
    {
      refetchInterval: (q) => {
        const row = active ? q.state.data?.find((r) => r.id === active) : undefined;
        const ended = (activeEvent !== undefined && activeEvent.status !== "running") || (row !== undefined && row.status !== "running");
        return (active && !ended) || anyRunning ? 2000 : false;
      },
    },
  );
  const activeRow = active ? runs.data?.find((r) => r.id === active) : undefined;
  const activeStatus = activeEvent && activeEvent.status !== "running" ? activeEvent.status : activeRow && activeRow.status !== "running" ? activeRow.status : active ? "running" : null;

  // A run that ends refreshes the list at once.
  const utils = trpc.useUtils();
  const finished = [...progress.values()].filter((p) => p.status !== "running").length;
  useEffect(() => {
    if (finished > 0) void utils.backtest.list.invalidate();
  }, [finished, utils]);

  const role = me.data?.role;
  const canRun = isRole(role) ? hasRole(role, "trader") : true; // unknown yet: let the server decide

  return (
    <div className="space-y-4">
      <h1 className="text-lg font-semibold">Backtests</h1>
      <NewBacktestForm canRun={canRun} busy={activeStatus === "running"} onStarted={(id) => setActive(id)} />
      {active ? (
        <RunProgress
          runId={active}
          event={activeEvent}
          fallback={activeRow ? { status: activeRow.status, error: activeRow.error, bars: activeRow.bars, finalValue: activeRow.finalValue, fills: activeRow.fills } : undefined}
          stream={stream}
          onClose={() => setActive(null)}
        />
      ) : null}
      <Section
        title="Past runs"
        testId="backtest-history"
        right={<span className="num text-[11px] text-dim">{runs.data ? `${runs.data.length} newest` : ""}</span>}
      >
        {runs.isLoading ? <p className="px-4 py-6 text-sm text-dim">Loading…</p> : null}
        {runs.error ? <p role="alert" className="px-4 py-6 text-sm text-bad">{runs.error.message}</p> : null}
        {runs.data ? <RunsTable runs={runs.data} progress={progress} /> : null}
        {runs.data && runs.data.length >= limit && limit < 500 ? (
          <div className="border-t border-line px-4 py-2">
            <button type="button" className="text-xs text-dim hover:text-fg" onClick={() => setLimit((l) => Math.min(500, l + 100))}>
              Show older runs
            </button>
          </div>
        ) : null}
      </Section>
    </div>
  );
}
