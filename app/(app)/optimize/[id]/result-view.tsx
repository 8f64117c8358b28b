"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { StatusBadge } from "@/app/(app)/backtests/ui";
import { KIND_LABEL, type ParamValue, runInputForTrial, toOptimizationView } from "../model";
import { OptimizeProgress } from "../optimize-progress";
import { useOptimizeProgress } from "../use-optimize-progress";
import { type BacktestLauncher, ResultBody } from "./result-body";

/** /optimize/[id]: a stored optimisation, live while it runs. */
export function ResultView({ id }: { id: string }) {
  const router = useRouter();
  const get = trpc.backtest.optimization.useQuery({ id }, { refetchInterval: (q) => (q.state.data?.status === "running" ? 2500 : false), retry: (n, e) => e.data?.code !== "NOT_FOUND" && n < 2 });
  const view = useMemo(() => (get.data ? toOptimizationView(get.data) : null), [get.data]);
  const running = view?.status === "running";
  const { progress, stream } = useOptimizeProgress(running);
  const event = progress.get(id);
  const utils = trpc.useUtils();
  const instruments = trpc.market.instruments.useQuery(undefined, { enabled: !!view?.job.symbol });
  const currency = instruments.data?.find((i) => i.symbol === view?.job.symbol)?.currency ?? "";

  // The stream says the run ended: fetch the stored result at once.
  useEffect(() => {
    if (event && event.status !== "running" && running) void utils.backtest.optimization.invalidate({ id });
  }, [event, running, utils, id]);

  const run = trpc.backtest.run.useMutation();
  const [pending, setPending] = useState<string | null>(null);
  const [runError, setRunError] = useState<string | null>(null);
  const launcher: BacktestLauncher | undefined = view
    ? {
        pending,
        error: runError,
        run: (params: Record<string, ParamValue>, key: string) => {
          const built = runInputForTrial(view.job, params);
          if ("error" in built) return setRunError(built.error);
          setRunError(null);
          setPending(key);
          run.mutate(built.input, {
            onSuccess: (r) => router.push(`/backtests/${encodeURIComponent(r.runId)}`),
            onError: (err) => {
              setPending(null);
              setRunError(err.data?.code === "SERVICE_UNAVAILABLE" ? "the engine is offline; try again in a moment." : err.message);
            },
          });
        },
      }
    : undefined;

  if (get.isLoading) return <p className="text-sm text-dim">Loading the optimisation…</p>;
  if (get.error) {
    return (
      <div className="space-y-3">
        <BackLink />
        <p role="alert" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
          {get.error.data?.code === "NOT_FOUND" ? `There is no optimisation with id ${id}.` : get.error.message}
        </p>
      </div>
    );
  }
  if (!view) return null;
  const status = view.status;
  const r = view.result;
  const title = `${view.kind ? KIND_LABEL[view.kind] : "optimisation"} · ${r?.strategy?.name ?? view.job.strategy ?? ""} on ${view.job.symbol ?? ""} ${view.job.timeframe ?? ""}`;

  return (
    <div className="space-y-4" data-testid="optimize-result" data-status={status} data-kind={view.kind ?? ""}>
      <div className="space-y-2">
        <BackLink />
        <div className="min-w-0">
          <h1 className="flex flex-wrap items-center gap-2 text-lg font-semibold">
            <span className="break-all">{r?.strategy?.name ?? view.job.strategy ?? "Optimisation"}</span>
            <span className="num text-sm font-normal text-dim">
              {view.job.symbol} {view.job.timeframe} · {view.kind ? KIND_LABEL[view.kind] : "?"}
            </span>
            <StatusBadge status={status} />
          </h1>
          <p className="num mt-0.5 text-[11px] break-all text-dim">optimisation {view.id}</p>
        </div>
      </div>

      {status === "running" ? (
        <OptimizeProgress id={view.id} title={title} objective={view.job.objective} kind={view.kind} event={event} fallback={{ status, error: view.error, progress: view.progress }} stream={stream} navigateOnDone={false} />
      ) : null}
      {status === "failed" ? (
        <div role="alert" data-testid="optimize-error" className="border border-bad/50 bg-bad/10 px-4 py-3 text-sm text-bad">
          <p className="font-semibold">This optimisation failed.</p>
          <p className="num mt-1 text-xs break-words whitespace-pre-wrap">{view.error ?? "No error message was recorded."}</p>
        </div>
      ) : null}
      {status === "cancelled" ? (
        <p className="border border-warn/40 bg-warn/5 px-4 py-2 text-sm text-warn">
          Cancelled before the end: everything below covers only the {r ? r.trials.length.toLocaleString("en-US") : "no"} trials that finished{r && typeof r.total === "number" ? ` of ${r.total.toLocaleString("en-US")} planned` : ""}.
        </p>
      ) : null}
      {status !== "running" && status !== "failed" && !r ? <p className="text-sm text-dim">No result was stored for this optimisation.</p> : null}
      {r && status !== "running" ? <ResultBody view={view} result={r} currency={currency} launcher={launcher} /> : null}
    </div>
  );
}

function BackLink() {
  return (
    <Link href="/optimize" className="text-xs text-dim hover:text-fg">
      ← Optimise
    </Link>
  );
}
