"use client";
import Link from "next/link";
import { Fragment, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { formatMetric, metricDef } from "@/app/(app)/backtests/report-model";
import { BASELINE_LABELS, asReport, flattenConfig, fmtCount, fmtElapsed, fmtIso, fmtValue, modelKeyMetric } from "./model";
import type { ModelListRow } from "./types";

const cap = "mb-1 text-[11px] uppercase tracking-wide text-dim";

/**
 * Registered models, newest first: what each was trained on and how it was
 * judged, its ONNX graph to download, and (trader role) delete. A row opens
 * to the model's metadata: hyperparameters, feature spec, data spans, metrics.
 */
export function ModelRegistry({ models, canDelete, onNetwork, selected }: { models: ModelListRow[]; canDelete: boolean; onNetwork: (id: string) => void; selected: string | null }) {
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const utils = trpc.useUtils();
  const del = trpc.training.deleteModel.useMutation({
    onSuccess: () => {
      setError(null);
      void utils.training.models.invalidate();
    },
    onError: (e) => setError(e.message),
  });
  if (models.length === 0) return <p className="px-4 py-6 text-sm text-dim">No model is registered yet. A training run registers its policy (as ONNX) when it finishes.</p>;
  const th = "px-3 py-2 font-normal whitespace-nowrap";
  const td = "px-3 py-1.5 whitespace-nowrap";
  return (
    <div>
      {error ? (
        <p role="alert" className="mx-4 mt-3 border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
          {error}
        </p>
      ) : null}
      <div className="overflow-x-auto">
        <table className="w-full text-sm">
          <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
            <tr>
              <th className={th}>
                <span className="sr-only">Details</span>
              </th>
              <th className={th}>Name</th>
              <th className={th}>Algo</th>
              <th className={th}>Env</th>
              <th className={`${th} text-right`}>Seed</th>
              <th className={th}>Code version</th>
              <th className={th}>Created (UTC)</th>
              <th className={`${th} text-right`}>Key metric</th>
              <th className={th}>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => {
              const key = modelKeyMetric(m.metrics);
              const isOpen = open === m.id;
              return (
                <Fragment key={m.id}>
                  <tr className={`border-t border-line hover:bg-panel-2 ${selected === m.id ? "bg-panel-2" : ""}`} data-testid={`model-row-${m.id}`}>
                    <td className={td}>
                      <button type="button" aria-expanded={isOpen} aria-label={`${isOpen ? "Hide" : "Show"} details of ${m.name}`} className="num w-5 text-dim hover:text-fg" onClick={() => setOpen(isOpen ? null : m.id)}>
                        {isOpen ? "−" : "+"}
                      </button>
                    </td>
                    <td className={`${td} max-w-[16rem] truncate`} title={`${m.name} (${m.id})`}>
                      {m.name}
                    </td>
                    <td className={`${td} num text-xs`}>{m.algo.toUpperCase()}</td>
                    <td className={`${td} num text-xs`}>{m.env}</td>
                    <td className={`${td} num text-right text-xs`}>{m.seed}</td>
                    <td className={`${td} num text-xs text-dim`}>{m.codeVersion}</td>
                    <td className={`${td} num text-xs text-dim`}>{fmtIso(m.createdAt)}</td>
                    <td className={`${td} num text-right text-xs`} title={key?.label}>
                      {key ? (
                        <>
                          <span className="text-dim">{m.env === "cartpole" ? "eval " : "OOS "}</span>
                          {key.text}
                        </>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td className={td}>
                      <div className="flex items-center gap-1.5">
                        <a href={`/api/models/${encodeURIComponent(m.id)}/onnx`} data-testid={`model-download-${m.id}`} className="rounded-sm border border-line px-2 py-0.5 text-xs text-dim hover:text-fg" title={`${fmtCount(m.onnxBytes)} bytes`}>
                          ONNX <span className="num text-[10px]">{(m.onnxBytes / 1024).toFixed(1)} KB</span>
                        </a>
                        <button type="button" className="rounded-sm border border-line px-2 py-0.5 text-xs text-dim hover:text-fg" onClick={() => onNetwork(m.id)}>
                          Network
                        </button>
                        {canDelete ? (
                          <button
                            type="button"
                            data-testid={`model-delete-${m.id}`}
                            disabled={del.isPending}
                            className="rounded-sm border border-bad/40 px-2 py-0.5 text-xs text-bad hover:bg-bad/10 disabled:opacity-40"
                            onClick={() => {
                              if (window.confirm(`Delete model "${m.name}"? Its ONNX graph and metadata are removed; the training run stays.`)) del.mutate({ id: m.id });
                            }}
                          >
                            Delete
                          </button>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                  {isOpen ? (
                    <tr className="bg-bg/40">
                      <td colSpan={9} className="px-3 py-3">
                        <div className="sticky left-3 max-w-[calc(100vw-3rem)] sm:max-w-none">
                          <ModelDetails m={m} />
                        </div>
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

function Kv({ rows, testId }: { rows: [string, string][]; testId?: string }) {
  if (rows.length === 0) return <p className="text-xs text-dim">none</p>;
  return (
    <dl className="num text-xs" data-testid={testId}>
      {rows.map(([k, v]) => (
        <div key={k} className="flex min-w-0 justify-between gap-3 border-b border-line/40 py-0.5">
          <dt className="text-dim">{k}</dt>
          <dd className="text-right break-all">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The metadata of one model: what it was trained with and on, and the stored report's figures (labelled). */
function ModelDetails({ m }: { m: ModelListRow }) {
  const r = asReport(m.metrics);
  const spans = m.dataSpans as Record<string, { from?: string; to?: string } | undefined> | null;
  const t = r?.trading;
  const rows: [string, string][] = [
    ["model id", m.id],
    ["training run", m.runId ?? "—"],
    ["ONNX size", `${fmtCount(m.onnxBytes)} bytes`],
  ];
  return (
    <div className="grid gap-4 text-xs whitespace-normal lg:grid-cols-3" data-testid={`model-details-${m.id}`}>
      <div className="min-w-0">
        <p className={cap}>Hyperparameters</p>
        <Kv rows={flattenConfig(m.hyperparams)} testId="model-hyperparams" />
      </div>
      <div className="min-w-0 space-y-3">
        <div>
          <p className={cap}>Feature spec</p>
          <Kv rows={flattenConfig(m.featureSpec)} testId="model-featurespec" />
        </div>
        <div>
          <p className={cap}>Data spans (UTC)</p>
          {spans && typeof spans === "object" ? (
            <Kv rows={(["train", "validation", "test"] as const).map((k) => [k, `${fmtIso(spans[k]?.from)} → ${fmtIso(spans[k]?.to)}`] as [string, string])} testId="model-spans" />
          ) : (
            <p className="text-dim">none: {m.env === "cartpole" ? "CartPole is a simulation, no market data" : "not recorded"}</p>
          )}
        </div>
        <Kv rows={rows} />
        {m.runId ? (
          <Link href={`/training/${encodeURIComponent(m.runId)}`} className="text-accent underline">
            open the training run and its full report
          </Link>
        ) : null}
      </div>
      <div className="min-w-0">
        <p className={cap}>Metrics</p>
        {!r ? (
          <p className="text-dim">The model holds no report.</p>
        ) : (
          <div className="space-y-2">
            <Kv
              rows={[
                ["steps", fmtCount(r.steps)],
                ["episodes", fmtCount(r.episodes)],
                ["steps per second", fmtCount(r.stepsPerSecond)],
                ["training time", fmtElapsed(r.elapsedMs)],
                ["mean return, last 100 training episodes", fmtValue(r.meanReturn100)],
                ...(r.evaluation ? ([[`evaluation: mean return, ${r.evaluation.episodes} greedy episodes`, fmtValue(r.evaluation.meanReturn)]] as [string, string][]) : []),
              ]}
            />
            {t ? (
              <table className="num w-full text-xs">
                <thead className="text-left text-[10px] uppercase tracking-wide text-dim">
                  <tr>
                    <th className="py-0.5 font-normal">Policy</th>
                    <th className="py-0.5 text-right font-normal">In-sample</th>
                    <th className="py-0.5 text-right font-normal text-info">Out-of-sample</th>
                  </tr>
                </thead>
                <tbody>
                  {(["totalReturn", "annualizedReturn", "sharpe", "sortino", "maxDrawdownPct", "trades", "winRate"] as const).map((k) => (
                    <tr key={k} className="border-t border-line/40">
                      <th scope="row" className="py-0.5 text-left font-normal text-dim">
                        {metricDef(k).label}
                      </th>
                      <td className="py-0.5 text-right">{formatMetric(t.inSample?.metrics as unknown as Record<string, unknown>, metricDef(k))}</td>
                      <td className="py-0.5 text-right">{formatMetric(t.outOfSample?.metrics as unknown as Record<string, unknown>, metricDef(k))}</td>
                    </tr>
                  ))}
                  <tr className="border-t border-line/40">
                    <th scope="row" className="py-0.5 text-left font-normal text-dim">
                      Look-ahead check
                    </th>
                    <td colSpan={2} className={`py-0.5 text-right ${t.lookAhead?.ok ? "text-accent" : "text-bad"}`}>
                      {t.lookAhead?.ok ? "passed" : `failed: ${t.lookAhead?.features?.join(", ") ?? ""}`}
                    </td>
                  </tr>
                </tbody>
              </table>
            ) : null}
            {t?.baselines?.length ? (
              <table className="num w-full text-xs">
                <thead className="text-left text-[10px] uppercase tracking-wide text-dim">
                  <tr>
                    <th className="py-0.5 font-normal">Baseline</th>
                    <th className="py-0.5 font-normal">Sample</th>
                    <th className="py-0.5 text-right font-normal">Return</th>
                    <th className="py-0.5 text-right font-normal">Sharpe</th>
                  </tr>
                </thead>
                <tbody>
                  {t.baselines.map((b, i) => (
                    <tr key={`${b.name}-${b.label}-${i}`} className="border-t border-line/40">
                      <td className="py-0.5">{BASELINE_LABELS[b.name] ?? b.name}</td>
                      <td className={`py-0.5 ${b.label === "out-of-sample" ? "text-info" : "text-dim"}`}>{b.label}</td>
                      <td className="py-0.5 text-right">{formatMetric(b.metrics as unknown as Record<string, unknown>, metricDef("totalReturn"))}</td>
                      <td className="py-0.5 text-right">{formatMetric(b.metrics as unknown as Record<string, unknown>, metricDef("sharpe"))}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </div>
        )}
      </div>
    </div>
  );
}
