"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { hasRole, isRole } from "@/server/auth/roles";
import { Section } from "@/app/(app)/backtests/ui";
import { EngineBanner } from "../engine-banner";
import { asResult, currentEvent, isActive, jobTitle, progressView, toJobView } from "./model";
import { TuneActions, TuneProgress } from "./tune-progress";
import { TuneResult } from "./tune-result";
import { TuneRunsTable } from "./tune-runs";
import { TuneForm } from "./tune-form";
import { useTuneProgress } from "./use-tune-progress";

const POLL_MS = 5000;

/**
 * /training/tune: a genetic search over PPO / DQN hyperparameters, every
 * trial scored on the validation span: the job form, the selected search's
 * live progress (Stop / Resume), its result (Pareto chart, trials) and the
 * past searches.
 */
export function TuneView({ initialId }: { initialId: string | null }) {
  const router = useRouter();
  const me = trpc.users.me.useQuery();
  const utils = trpc.useUtils();
  const live = useTuneProgress();
  const anyLive = [...live.latest.values()].some((e) => isActive(e.status));
  const runs = trpc.training.tunings.useQuery(undefined, { refetchInterval: (q) => (anyLive || (q.state.data ?? []).some((r) => isActive(r.status)) ? POLL_MS : false) });
  const [picked, setPicked] = useState<string | null>(initialId);
  const selected = picked ?? runs.data?.[0]?.id ?? null;
  const ev = selected ? live.latest.get(selected) : undefined;
  const detail = trpc.training.tuning.useQuery(
    { id: selected ?? "" },
    { enabled: selected !== null, refetchInterval: (q) => (q.state.data && isActive(q.state.data.status)) || (ev && isActive(ev.status)) ? POLL_MS : false, retry: (n, e) => e.data?.code !== "NOT_FOUND" && n < 2 },
  );

  // a search that changes state or completes a generation refreshes its row and the list
  const states = [...live.latest.values()].map((e) => `${e.tuneId}:${e.status}`).join(",");
  useEffect(() => {
    if (states) void utils.training.tunings.invalidate();
  }, [states, utils]);
  const evKey = ev ? `${ev.status}:${ev.generation}` : "";
  useEffect(() => {
    if (evKey && selected) void utils.training.tuning.invalidate({ id: selected });
  }, [evKey, selected, utils]);

  const select = (id: string) => {
    setPicked(id);
    router.replace(`/training/tune?id=${encodeURIComponent(id)}`, { scroll: false });
  };

  const role = me.data?.role;
  const canRun = isRole(role) ? hasRole(role, "trader") : true; // unknown yet: let the server decide
  const canAct = isRole(role) ? hasRole(role, "trader") : false;

  const d = detail.data;
  const job = useMemo(() => toJobView(d?.job), [d?.job]);
  const cur = d ? currentEvent(d, ev) : undefined;
  const status = cur?.status ?? d?.status ?? "queued";
  const view = useMemo(() => {
    if (!d) return null;
    const env = job.env ?? "cartpole";
    if (d.result) return asResult(d.result, env);
    const liveEv = cur && isActive(cur.status) ? cur : undefined;
    if (d.progressTrials || liveEv?.front.length) return progressView(env, d.progressTrials ?? [], d.progressGenerations ?? [], liveEv);
    return null;
  }, [d, job.env, cur]);

  return (
    <div className="space-y-4">
      <div>
        <p className="text-xs">
          <Link href="/training" className="text-dim hover:text-fg">
            ← Training
          </Link>
        </p>
        <h1 className="text-lg font-semibold">Hyperparameter search</h1>
        <p className="mt-0.5 text-xs text-dim">
          A genetic (NSGA-II style) search over PPO or DQN and network hyperparameters, in the engine. Every trial trains the base configuration with its hyperparameters and is scored on the validation span only (trading: Sharpe up, max drawdown down; CartPole: the evaluation return), never the test span. Stop keeps the finished trials; Resume continues from the stored state.
        </p>
      </div>
      <EngineBanner stream={live.stream} />
      <TuneForm canRun={canRun} onStarted={select} />
      {selected ? (
        detail.isLoading ? (
          <p className="text-sm text-dim">Loading the search…</p>
        ) : !d ? (
          <p role="alert" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
            {detail.error?.data?.code === "NOT_FOUND" ? `There is no search with id ${selected}.` : (detail.error?.message ?? "The search could not be loaded.")}
          </p>
        ) : (
          <>
            <TuneProgress
              title={`${jobTitle(job)} · ${job.dims.join(", ") || "—"}`}
              row={d}
              event={ev}
              job={job}
              stream={live.stream}
              actions={<TuneActions tuneId={d.id} status={status} generations={job.generations} canRun={canAct} />}
            />
            <Section title="Result (validation)" right={<span className="num text-[11px] text-dim">{d.id.slice(0, 8)}</span>}>
              <TuneResult status={status} job={job} view={view} />
            </Section>
          </>
        )
      ) : null}
      <Section title="Past searches" testId="tune-runs" right={<span className="num text-[11px] text-dim">{runs.data ? `${runs.data.length} newest` : ""}</span>}>
        {runs.isLoading ? <p className="px-4 py-6 text-sm text-dim">Loading…</p> : null}
        {runs.error ? (
          <p role="alert" className="px-4 py-6 text-sm text-bad">
            {runs.error.message}
          </p>
        ) : null}
        {runs.data ? <TuneRunsTable rows={runs.data} latest={live.latest} selected={selected} onSelect={select} /> : null}
      </Section>
    </div>
  );
}
