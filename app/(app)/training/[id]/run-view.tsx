"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { hasRole, isRole } from "@/server/auth/roles";
import { ProgressBar, Section, StatusBadge } from "@/app/(app)/backtests/ui";
import { CurveCharts, type CurveRun } from "../curve-charts";
import { EngineBanner } from "../engine-banner";
import { MAX_COMPARE, asCurves, asReport, chartsFor, configDiff, flattenConfig, fmtCount, fmtIso, fmtProgress, fmtValue, mergeCurves, runColor, runKeyMetric, runState } from "../model";
import { RunActions } from "../run-actions";
import { TrainingSummary } from "../summary";
import type { RunDetail, RunListRow } from "../types";
import { useTrainProgress } from "../use-train-progress";

const REFRESH_MS = 10_000; // the engine stores curves every 10 s

/**
 * /training/[id]: one run, live while it trains (the stream's points after
 * the stored curves), its controls, the curves beside other runs' (each its
 * own colour), and the report when done.
 */
export function RunView({ id, initialCompare }: { id: string; initialCompare: string[] }) {
  const router = useRouter();
  const me = trpc.users.me.useQuery();
  const utils = trpc.useUtils();
  const live = useTrainProgress();
  const run = trpc.training.run.useQuery({ id }, { refetchInterval: (q) => (q.state.data?.status === "running" ? REFRESH_MS : false), retry: (n, e) => e.data?.code !== "NOT_FOUND" && n < 2 });
  const runs = trpc.training.runs.useQuery();
  const [compare, setCompare] = useState<string[]>(initialCompare.slice(0, MAX_COMPARE));
  const compared = trpc.useQueries((t) => compare.map((cid) => t.training.run({ id: cid }, { refetchInterval: (q) => (q.state.data?.status === "running" ? REFRESH_MS : false), retry: (n, e) => e.data?.code !== "NOT_FOUND" && n < 2 })));

  const ev = live.latest.get(id);
  const state = run.data ? runState(run.data, ev) : null;
  // the stream says the run changed state (stopped, done, failed, reset, resumed): fetch the stored row at once
  const evKey = ev ? `${ev.status}:${ev.status === "running" ? "" : ev.step}` : "";
  useEffect(() => {
    if (!evKey) return;
    void utils.training.run.invalidate({ id });
    void utils.training.runs.invalidate();
  }, [evKey, utils, id]);

  const instruments = trpc.market.instruments.useQuery(undefined, { enabled: run.data?.env === "trading" });
  const cfg = (run.data?.config ?? null) as { trading?: { symbol?: string; timeframe?: string } } | null;
  const currency = instruments.data?.find((i) => i.symbol.toUpperCase() === cfg?.trading?.symbol?.toUpperCase())?.currency ?? "";

  const curveRuns: CurveRun[] = useMemo(() => {
    const out: CurveRun[] = [];
    if (run.data) out.push({ id, label: run.data.name, color: runColor(0), points: mergeCurves(asCurves(run.data.curves), live.points.get(id)) });
    compare.forEach((cid, i) => {
      const d = compared[i]?.data;
      if (d) out.push({ id: cid, label: d.name, color: runColor(i + 1), points: mergeCurves(asCurves(d.curves), live.points.get(cid)) });
    });
    return out;
  }, [run.data, compare, compared, live.points, id]);

  const setCompareIds = (ids: string[]) => {
    const next = ids.filter((x) => x !== id).slice(0, MAX_COMPARE);
    setCompare(next);
    router.replace(next.length ? `/training/${encodeURIComponent(id)}?compare=${next.map(encodeURIComponent).join(",")}` : `/training/${encodeURIComponent(id)}`, { scroll: false });
  };

  if (run.isLoading) return <p className="text-sm text-dim">Loading the training run…</p>;
  if (!run.data || !state) {
    return (
      <div className="space-y-3">
        <BackLink />
        <p role="alert" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
          {run.error?.data?.code === "NOT_FOUND" ? `There is no training run with id ${id}.` : (run.error?.message ?? "The run could not be loaded.")}
        </p>
      </div>
    );
  }

  const r = run.data;
  const role = me.data?.role;
  const canRun = isRole(role) ? hasRole(role, "trader") : false;
  const summary = asReport(r.summary);
  const showSummary = summary && state.status === "done";
  const algos = curveRuns.map((c) => (c.id === id ? r.algo : (compared[compare.indexOf(c.id)]?.data?.algo ?? ""))).filter(Boolean);
  const xMax = Math.max(r.totalSteps, ...compare.map((_, i) => compared[i]?.data?.totalSteps ?? 0), ...curveRuns.map((c) => c.points.at(-1)?.step ?? 0));
  const last = curveRuns[0]?.points.at(-1);
  const daily = cfg?.trading?.timeframe === "1d";

  return (
    <div className="space-y-4" data-testid="training-run" data-status={state.status} data-run-id={id}>
      <div className="space-y-2">
        <BackLink />
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div className="min-w-0">
            <h1 className="flex flex-wrap items-center gap-2 text-lg font-semibold">
              <span className="break-all">{r.name}</span>
              <StatusBadge status={state.status} />
            </h1>
            <p className="num mt-0.5 text-[11px] break-all text-dim">
              {r.env === "cartpole" ? "CartPole" : `trading ${cfg?.trading?.symbol ?? ""} ${cfg?.trading?.timeframe ?? ""}`} · {r.algo.toUpperCase()} · seed {r.seed} · created {fmtIso(r.createdAt)} UTC · run {r.id}
            </p>
          </div>
          <RunActions runId={id} status={state.status} canRun={canRun} />
        </div>
      </div>
      <EngineBanner stream={live.stream} />

      {state.status === "failed" ? (
        <div role="alert" data-testid="training-error" className="border border-bad/50 bg-bad/10 px-4 py-3 text-sm text-bad">
          <p className="text-xs font-semibold tracking-wide uppercase">Training failed at step {fmtCount(state.step)}</p>
          <p className="mt-1 break-words">{state.error ?? "The engine gave no reason."}</p>
          {canRun ? <p className="mt-2 text-xs text-dim">Reset the run and start again, or start a new run with other settings.</p> : null}
        </div>
      ) : null}
      {state.status === "stopped" && state.error ? <p className="border border-warn/40 bg-warn/10 px-3 py-2 text-sm text-warn">{state.error}</p> : null}

      <div className="flex flex-wrap items-center gap-3 border border-line bg-panel px-4 py-3" data-testid="run-progress">
        <ProgressBar done={state.step} total={state.totalSteps} label="training progress" />
        <span className="num text-xs" data-testid="run-steps">
          {fmtProgress(state.step, state.totalSteps)}
        </span>
        <span className="num text-xs text-dim">
          mean return (100 ep) <span className="text-fg">{fmtValue(last?.meanReturn100 ?? state.meanReturn100)}</span>
        </span>
        {last ? <span className="num text-xs text-dim">{fmtCount(last.stepsPerSecond)} steps/s</span> : null}
        {state.status === "running" ? <span className="num text-[11px] text-dim">{live.stream === "online" ? "live" : live.stream === "connecting" ? "connecting…" : `stream offline · refreshing every ${REFRESH_MS / 1000} s`}</span> : null}
      </div>

      {state.status === "done" && state.modelId ? (
        <p className="border border-accent/30 bg-accent/5 px-3 py-2 text-sm" data-testid="run-model">
          Policy registered as model <span className="num text-xs">{state.modelId}</span> ·{" "}
          <a className="text-accent underline" href={`/api/models/${encodeURIComponent(state.modelId)}/onnx`}>
            download ONNX
          </a>{" "}
          ·{" "}
          <Link className="text-accent underline" href={`/training?model=${encodeURIComponent(state.modelId)}#network`}>
            network view
          </Link>
        </p>
      ) : null}

      <Section
        title="Curves"
        testId="curves"
        right={
          curveRuns.length > 1 ? (
            <div className="flex flex-wrap gap-x-3 gap-y-1 text-[11px]" data-testid="curves-legend">
              {curveRuns.map((c) => (
                <span key={c.id} className="flex min-w-0 items-center gap-1.5">
                  <span className="inline-block h-2 w-3 shrink-0" style={{ background: c.color }} />
                  <span className="max-w-48 truncate" title={c.label}>
                    {c.label}
                  </span>
                </span>
              ))}
            </div>
          ) : (
            <span className="num text-[11px] text-dim">{fmtCount(curveRuns[0]?.points.length ?? 0)} points</span>
          )
        }
      >
        {curveRuns[0] && curveRuns[0].points.length === 0 && curveRuns.length === 1 ? (
          <p className="px-4 py-6 text-sm text-dim">{state.status === "running" ? "Waiting for the first iteration (one run trains at a time; this one may be waiting for another to finish)." : "This run holds no curve points."}</p>
        ) : (
          <CurveCharts charts={chartsFor(algos)} runs={curveRuns} xMax={xMax} />
        )}
      </Section>

      <ComparePanel id={id} runs={runs.data ?? []} compare={compare} compared={compare.map((cid, i) => ({ id: cid, data: compared[i]?.data, error: compared[i]?.error?.message ?? null }))} self={r} onChange={setCompareIds} />

      {showSummary ? (
        <Section title="Report" right={<span className="text-[11px] text-dim">{summary.trading ? "every figure labelled in-sample (train span) or out-of-sample (test span)" : "after training"}</span>}>
          <div className="p-4">
            <TrainingSummary summary={summary} currency={currency} daily={daily} />
          </div>
        </Section>
      ) : state.status === "done" ? (
        <p className="text-xs text-dim">{r.status === "done" ? "This run stored no report." : "The run finished; loading its report…"}</p>
      ) : state.status !== "failed" ? (
        <p className="text-xs text-dim">The report (evaluation{r.env === "trading" ? ", in-sample and out-of-sample metrics, baselines" : ""}) is made when the run finishes.</p>
      ) : null}

      <Section title="Configuration">
        <dl className="num grid gap-x-6 gap-y-0.5 p-4 text-xs sm:grid-cols-2 lg:grid-cols-3" data-testid="run-config">
          {flattenConfig(r.config).map(([k, v]) => (
            <div key={k} className="flex min-w-0 justify-between gap-3 border-b border-line/40 py-0.5">
              <dt className="text-dim">{k}</dt>
              <dd className="truncate text-right" title={v}>
                {v}
              </dd>
            </div>
          ))}
        </dl>
        <p className="px-4 pb-3 text-[11px] text-dim">As submitted; settings not listed take the engine&apos;s defaults.</p>
      </Section>
    </div>
  );
}

function BackLink() {
  return (
    <Link href="/training" className="text-xs text-dim hover:text-fg">
      ← Training
    </Link>
  );
}

/** Pick other runs to overlay on the curves, and their figures side by side with the settings that differ. */
function ComparePanel({
  id,
  runs,
  compare,
  compared,
  self,
  onChange,
}: {
  id: string;
  runs: RunListRow[];
  compare: string[];
  compared: { id: string; data: RunDetail | undefined; error: string | null }[];
  self: RunDetail;
  onChange: (ids: string[]) => void;
}) {
  const [open, setOpen] = useState(compare.length === 0 ? false : true);
  const others = runs.filter((x) => x.id !== id);
  const rows = [{ id, data: self as RunDetail | undefined, error: null as string | null }, ...compared];
  const diff = configDiff(rows.map((x) => x.data?.config ?? null));
  return (
    <Section
      title="Compare"
      testId="compare"
      right={
        <button type="button" className="rounded-sm border border-line px-2 py-0.5 text-xs text-dim hover:text-fg" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          {open ? "Hide runs" : `Pick runs${compare.length ? ` (${compare.length})` : ""}`}
        </button>
      }
    >
      {open ? (
        <div className="border-b border-line px-4 py-3">
          {others.length === 0 ? (
            <p className="text-sm text-dim">No other run to compare with yet.</p>
          ) : (
            <>
              <p className="mb-2 text-xs text-dim">Overlay up to {MAX_COMPARE} other runs on the curves above; each keeps its own colour and its own points.</p>
              <ul className="grid gap-1 sm:grid-cols-2 lg:grid-cols-3">
                {others.map((o) => {
                  const idx = compare.indexOf(o.id);
                  const checked = idx >= 0;
                  return (
                    <li key={o.id}>
                      <label className={`flex min-w-0 cursor-pointer items-center gap-2 border px-2 py-1 text-xs ${checked ? "border-line bg-panel-2" : "border-transparent hover:border-line"}`}>
                        <input type="checkbox" data-testid={`compare-pick-${o.id}`} checked={checked} disabled={!checked && compare.length >= MAX_COMPARE} onChange={() => onChange(checked ? compare.filter((x) => x !== o.id) : [...compare, o.id])} />
                        {checked ? <span className="inline-block h-2 w-3 shrink-0" style={{ background: runColor(idx + 1) }} /> : null}
                        <span className="min-w-0 truncate" title={o.name}>
                          {o.name}
                        </span>
                        <span className="num ml-auto shrink-0 text-[10px] text-dim">
                          {o.env === "cartpole" ? "CP" : "TR"}·{o.algo} · {o.status}
                        </span>
                      </label>
                    </li>
                  );
                })}
              </ul>
            </>
          )}
        </div>
      ) : null}
      {compare.length ? (
        <div className="overflow-x-auto">
          <table className="w-full text-xs" data-testid="compare-table">
            <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
              <tr>
                <th className="px-3 py-2 font-normal">Run</th>
                <th className="px-3 py-2 font-normal whitespace-nowrap">Env / algo</th>
                <th className="px-3 py-2 text-right font-normal">Seed</th>
                <th className="px-3 py-2 font-normal">Status</th>
                <th className="px-3 py-2 text-right font-normal whitespace-nowrap">Steps</th>
                <th className="px-3 py-2 text-right font-normal whitespace-nowrap">Mean return (100 ep)</th>
                <th className="px-3 py-2 text-right font-normal whitespace-nowrap">Evaluation / OOS</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => {
                const d = row.data;
                const s = asReport(d?.summary);
                const key = runKeyMetric(d?.summary);
                const lastPt = asCurves(d?.curves).at(-1);
                return (
                  <tr key={row.id} className="border-t border-line/60">
                    <td className="max-w-[14rem] px-3 py-1.5">
                      <span className="flex min-w-0 items-center gap-2">
                        <span className="inline-block h-2 w-3 shrink-0" style={{ background: runColor(i) }} />
                        {d ? (
                          <Link href={`/training/${encodeURIComponent(row.id)}`} className="truncate hover:text-accent" title={d.name}>
                            {d.name}
                          </Link>
                        ) : (
                          <span className={row.error ? "text-bad" : "text-dim"}>{row.error ?? "loading…"}</span>
                        )}
                      </span>
                    </td>
                    <td className="num px-3 py-1.5 whitespace-nowrap">{d ? `${d.env === "cartpole" ? "CartPole" : "trading"} · ${d.algo.toUpperCase()}` : ""}</td>
                    <td className="num px-3 py-1.5 text-right">{d?.seed ?? ""}</td>
                    <td className="px-3 py-1.5">{d ? <StatusBadge status={d.status} /> : null}</td>
                    <td className="num px-3 py-1.5 text-right whitespace-nowrap">{d ? fmtCount(d.steps) : ""}</td>
                    <td className="num px-3 py-1.5 text-right">{fmtValue(s?.meanReturn100 ?? lastPt?.meanReturn100 ?? null)}</td>
                    <td className="num px-3 py-1.5 text-right whitespace-nowrap" title={key?.label}>
                      {key?.text ?? "—"}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {diff.length ? (
            <div className="border-t border-line px-3 py-2">
              <p className="mb-1 text-[11px] uppercase tracking-wide text-dim">Settings that differ</p>
              <table className="num text-xs">
                <tbody>
                  {diff.map((dd) => (
                    <tr key={dd.key}>
                      <th scope="row" className="pr-4 text-left font-normal text-dim">
                        {dd.key}
                      </th>
                      {dd.values.map((val, i) => (
                        <td key={i} className="pr-4 whitespace-nowrap" style={{ color: runColor(i) }}>
                          {val}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p className="border-t border-line px-3 py-2 text-[11px] text-dim">The compared runs were submitted with the same settings.</p>
          )}
        </div>
      ) : (
        <p className="px-4 py-3 text-xs text-dim">No run picked: the curves show this run only.</p>
      )}
    </Section>
  );
}
