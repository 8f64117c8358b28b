import { METRIC_GROUPS, formatMetric, metricDef } from "@/app/(app)/backtests/report-model";
import { BASELINE_LABELS, BASELINE_METRIC_KEYS, SAMPLE_METRIC_KEYS, type Summary, type TradingReport, fmtCount, fmtElapsed, fmtIso, fmtValue, spanBars } from "./model";

const cap = "text-[11px] uppercase tracking-wide text-dim";

function Figure({ label, value, hint, testId }: { label: string; value: string; hint?: string; testId?: string }) {
  return (
    <div className="min-w-0 bg-panel px-3 py-2" title={hint}>
      <p className="text-[11px] text-dim">{label}</p>
      <p className="num mt-0.5 text-sm break-words" data-testid={testId}>
        {value}
      </p>
    </div>
  );
}

/**
 * A finished run's report (training.run summary, model metrics): steps,
 * speed and training return; CartPole's evaluation; for trading the spans,
 * the look-ahead check, in-sample vs out-of-sample metrics side by side and
 * the baselines on the same spans. Every trading figure says which sample it
 * is from. Only stored figures are shown ("—" where the report holds none).
 */
export function TrainingSummary({ summary, currency = "", daily = false }: { summary: Summary; currency?: string; daily?: boolean }) {
  return (
    <div className="space-y-4" data-testid="training-summary">
      <div className="grid grid-cols-2 gap-px border border-line bg-line sm:grid-cols-3 lg:grid-cols-6">
        <Figure label="Steps" value={fmtCount(summary.steps)} testId="summary-steps" />
        <Figure label="Episodes" value={fmtCount(summary.episodes)} />
        <Figure label="Steps per second" value={fmtCount(summary.stepsPerSecond)} hint="over the whole run, wall clock" testId="summary-sps" />
        <Figure label="Training time" value={fmtElapsed(summary.elapsedMs)} hint="of the last session (since the last start or resume)" />
        <Figure label="Mean return (last 100 training ep)" value={fmtValue(summary.meanReturn100)} hint="episodes during training, with exploration" />
        <Figure label="Seed" value={String(summary.seed)} />
      </div>
      {summary.compute ? (
        <p className="num text-[11px] text-dim" data-testid="summary-compute">
          Computed on {summary.compute.provider === "cuda" ? "GPU (CUDA)" : "CPU"} (device {summary.compute.requested}), update backend {summary.compute.backend}
          {summary.compute.note ? <span className={summary.compute.requested === "cuda" ? "text-warn" : ""}> · {summary.compute.note}</span> : null}
          {summary.compute.backendNote ? <span className="text-warn"> · {summary.compute.backendNote}</span> : null}
        </p>
      ) : null}
      {summary.evaluation ? (
        <div className="border border-accent/30 bg-accent/5 px-3 py-2" data-testid="summary-evaluation">
          <p className={cap}>Evaluation · greedy policy · {summary.evaluation.episodes} fresh episodes (a different seed from training)</p>
          <p className="num mt-1 text-lg">
            mean return <span className="text-accent">{fmtValue(summary.evaluation.meanReturn)}</span>
            {summary.env === "cartpole" ? <span className="text-xs text-dim"> / 500 max</span> : null}
          </p>
        </div>
      ) : null}
      {summary.trading ? <TradingSummary t={summary.trading} currency={currency} daily={daily} /> : null}
    </div>
  );
}

function TradingSummary({ t, currency, daily }: { t: TradingReport; currency: string; daily: boolean }) {
  const spans: { key: "train" | "validation" | "test"; label: string; role: string }[] = [
    { key: "train", label: "Train", role: "in-sample: the policy learns here" },
    { key: "validation", label: "Validation", role: t.walkForward ? "for tuning and the walk-forward folds below" : "for tuning; not used by this report" },
    { key: "test", label: "Test", role: "out-of-sample: touched once, for this report" },
  ];
  return (
    <div className="space-y-4">
      <div className="grid gap-3 lg:grid-cols-[2fr_1fr]">
        <div className="min-w-0 border border-line" data-testid="summary-spans">
          <p className={`${cap} border-b border-line px-3 py-2`}>Spans (by time, UTC) · embargo {fmtCount(t.split?.embargo)} bars between spans</p>
          <div className="overflow-x-auto">
            <table className="w-full text-xs">
              <tbody>
                {spans.map((s) => (
                  <tr key={s.key} className="border-t border-line/60 first:border-t-0">
                    <th scope="row" className="px-3 py-1.5 text-left font-normal whitespace-nowrap">
                      {s.label}
                    </th>
                    <td className="num px-3 py-1.5 whitespace-nowrap">
                      {fmtIso(t.spans?.[s.key]?.from)} → {fmtIso(t.spans?.[s.key]?.to)}
                    </td>
                    <td className="num px-3 py-1.5 text-right whitespace-nowrap">{fmtCount(spanBars(t.split?.[s.key]))} bars</td>
                    <td className="px-3 py-1.5 text-dim">{s.role}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
        <div className={`min-w-0 border px-3 py-2 ${t.lookAhead?.ok ? "border-accent/30 bg-accent/5" : "border-bad/40 bg-bad/10"}`} data-testid="summary-lookahead" data-ok={t.lookAhead?.ok ? "true" : "false"}>
          <p className={cap}>Look-ahead check (before training)</p>
          {t.lookAhead?.ok ? (
            <p className="mt-1 text-sm">
              <span className="text-accent">passed</span>: no feature uses bars after the decision bar.
            </p>
          ) : (
            <p className="mt-1 text-sm text-bad">failed: {t.lookAhead?.features?.join(", ") || "unnamed features"} see bars after the decision bar.</p>
          )}
        </div>
      </div>

      <div>
        <p className={`${cap} mb-2`}>The trained policy · in-sample vs out-of-sample (same metrics as a backtest, same costs)</p>
        <div className="grid grid-cols-2 gap-px border border-line bg-line">
          <SampleColumn testId="in-sample" title="In-sample" sub={`train span · ${fmtIso(t.spans?.train?.from).slice(0, 10)} → ${fmtIso(t.spans?.train?.to).slice(0, 10)}`} sample={t.inSample} currency={currency} daily={daily} />
          <SampleColumn testId="out-of-sample" title="Out-of-sample" sub={`test span · ${fmtIso(t.spans?.test?.from).slice(0, 10)} → ${fmtIso(t.spans?.test?.to).slice(0, 10)}`} sample={t.outOfSample} currency={currency} daily={daily} />
        </div>
        <details className="mt-2 border border-line">
          <summary className="cursor-pointer px-3 py-2 text-xs text-dim hover:text-fg">All metrics, in-sample and out-of-sample</summary>
          <div className="overflow-x-auto">
            <table className="w-full text-xs" data-testid="all-sample-metrics">
              <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
                <tr>
                  <th className="px-3 py-1.5 font-normal">Metric</th>
                  <th className="px-3 py-1.5 text-right font-normal">In-sample</th>
                  <th className="px-3 py-1.5 text-right font-normal">Out-of-sample</th>
                </tr>
              </thead>
              <tbody>
                {METRIC_GROUPS.filter((g) => g.title !== "Run").flatMap((g) => g.metrics).map((m) => (
                  <tr key={m.key} className="border-t border-line/60">
                    <th scope="row" className="px-3 py-1 text-left font-normal text-dim">
                      {m.label}
                    </th>
                    <td className="num px-3 py-1 text-right whitespace-nowrap">{formatMetric(t.inSample?.metrics as unknown as Record<string, unknown>, m, currency, daily)}</td>
                    <td className="num px-3 py-1 text-right whitespace-nowrap">{formatMetric(t.outOfSample?.metrics as unknown as Record<string, unknown>, m, currency, daily)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </div>

      {t.walkForward ? <WalkForward t={t} currency={currency} daily={daily} /> : null}
      <Baselines t={t} currency={currency} daily={daily} />
    </div>
  );
}

/** Walk-forward folds: each fold's own policy on the validation block after its training data. */
function WalkForward({ t, currency, daily }: { t: TradingReport; currency: string; daily: boolean }) {
  const wf = t.walkForward!;
  const sm = wf.summary;
  const f2 = (x: number | null | undefined) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(2) : "—");
  return (
    <div className="border border-line" data-testid="walk-forward">
      <p className={`${cap} border-b border-line px-3 py-2`}>
        Walk-forward · {wf.folds.length} folds ({wf.anchored ? "anchored" : "rolling"}) in the development data · each fold&apos;s own policy, out-of-sample on the block after its training data; the test span is not used
      </p>
      <p className="num px-3 py-2 text-xs" data-testid="walk-forward-summary">
        Sharpe across folds: mean <span className="text-info">{f2(sm?.meanSharpe)}</span> ± {f2(sm?.stdSharpe)} · positive return in {fmtCount(sm?.positive)} of {fmtCount(sm?.folds)} folds
      </p>
      <div className="overflow-x-auto">
        <table className="w-full text-xs">
          <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
            <tr>
              <th className="px-3 py-1.5 font-normal whitespace-nowrap">Fold</th>
              <th className="px-3 py-1.5 font-normal whitespace-nowrap">Trained on</th>
              <th className="px-3 py-1.5 font-normal whitespace-nowrap">Measured on (out-of-sample)</th>
              <MetricHeads />
            </tr>
          </thead>
          <tbody>
            {wf.folds.map((f) => (
              <tr key={f.index} className="border-t border-line/60" data-sample={f.label} data-testid={`fold-${f.index}`}>
                <th scope="row" className="num px-3 py-1 text-left font-normal">
                  {f.index + 1}
                </th>
                <td className="num px-3 py-1 whitespace-nowrap text-dim">
                  {fmtIso(f.train?.from).slice(0, 10)} → {fmtIso(f.train?.to).slice(0, 10)}
                </td>
                <td className="num px-3 py-1 whitespace-nowrap text-info">
                  {fmtIso(f.validation?.from).slice(0, 10)} → {fmtIso(f.validation?.to).slice(0, 10)}
                </td>
                <MetricCells metrics={f.metrics} currency={currency} daily={daily} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function SampleColumn({ testId, title, sub, sample, currency, daily }: { testId: string; title: string; sub: string; sample: TradingReport["inSample"] | TradingReport["outOfSample"] | undefined; currency: string; daily: boolean }) {
  const metrics = (sample?.metrics ?? null) as unknown as Record<string, unknown> | null;
  const label = testId === "in-sample" ? "in-sample" : "out-of-sample";
  return (
    <div className="min-w-0 bg-panel" data-testid={testId} data-label={sample?.label ?? label}>
      <div className={`border-b border-line px-3 py-2 ${testId === "out-of-sample" ? "bg-info/5" : ""}`}>
        <p className={`text-xs font-semibold uppercase tracking-wide ${testId === "out-of-sample" ? "text-info" : "text-fg"}`}>{title}</p>
        <p className="num text-[11px] text-dim">{sub}</p>
      </div>
      <table className="w-full text-xs">
        <tbody>
          {SAMPLE_METRIC_KEYS.map((k) => {
            const d = metricDef(k);
            return (
              <tr key={k} className="border-t border-line/60 first:border-t-0" data-metric={k}>
                <th scope="row" className="px-2 py-1 text-left font-normal text-dim sm:px-3">
                  {d.label}
                </th>
                <td className="num px-2 py-1 text-right whitespace-nowrap sm:px-3" aria-label={`${d.label}, ${label}`}>
                  {formatMetric(metrics, d, currency, daily)}
                </td>
              </tr>
            );
          })}
          <tr className="border-t border-line/60" data-metric="fills">
            <th scope="row" className="px-2 py-1 text-left font-normal text-dim sm:px-3">
              Fills
            </th>
            <td className="num px-2 py-1 text-right sm:px-3">{fmtCount(sample?.fills)}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

function Baselines({ t, currency, daily }: { t: TradingReport; currency: string; daily: boolean }) {
  const rows = [
    { name: "Trained policy", label: "in-sample", metrics: t.inSample?.metrics, finalValue: t.inSample?.finalValue, policy: true },
    ...(t.baselines ?? []).filter((b) => b.label === "in-sample").map((b) => ({ name: BASELINE_LABELS[b.name] ?? b.name, label: b.label, metrics: b.metrics, finalValue: b.finalValue, policy: false })),
    { name: "Trained policy", label: "out-of-sample", metrics: t.outOfSample?.metrics, finalValue: t.outOfSample?.finalValue, policy: true },
    ...(t.baselines ?? []).filter((b) => b.label === "out-of-sample").map((b) => ({ name: BASELINE_LABELS[b.name] ?? b.name, label: b.label, metrics: b.metrics, finalValue: b.finalValue, policy: false })),
  ];
  return (
    <div className="border border-line" data-testid="baselines">
      <p className={`${cap} border-b border-line px-3 py-2`}>Baselines on the same spans, same costs (flat, buy-and-hold, SMA crossover), beside the trained policy</p>
      <div className="overflow-x-auto">
        <table className="w-full text-xs">
          <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
            <tr>
              <th className="px-3 py-1.5 font-normal whitespace-nowrap">Strategy</th>
              <th className="px-3 py-1.5 font-normal whitespace-nowrap">Sample</th>
              <th className="px-3 py-1.5 text-right font-normal whitespace-nowrap">Final equity</th>
              <MetricHeads />
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={`${r.name}-${r.label}-${i}`} className={`border-t border-line/60 ${r.label === "out-of-sample" && rows[i - 1]?.label === "in-sample" ? "border-t-line" : ""} ${r.policy ? "bg-panel-2" : ""}`} data-sample={r.label}>
                <th scope="row" className={`px-3 py-1 text-left font-normal whitespace-nowrap ${r.policy ? "text-accent" : ""}`}>
                  {r.name}
                </th>
                <td className={`px-3 py-1 whitespace-nowrap ${r.label === "out-of-sample" ? "text-info" : "text-dim"}`}>{r.label}</td>
                <td className="num px-3 py-1 text-right whitespace-nowrap">{formatMetric({ finalEquity: r.finalValue ?? null }, metricDef("finalEquity"), currency, daily)}</td>
                <MetricCells metrics={r.metrics} currency={currency} daily={daily} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** The baseline metric columns' headers (BASELINE_METRIC_KEYS), shared by the baseline and walk-forward tables. */
function MetricHeads() {
  return (
    <>
      {BASELINE_METRIC_KEYS.map((k) => (
        <th key={k} className="px-3 py-1.5 text-right font-normal whitespace-nowrap">
          {metricDef(k).label}
        </th>
      ))}
    </>
  );
}

/** One row's baseline metric cells, formatted like the backtest report. */
function MetricCells({ metrics, currency, daily }: { metrics: unknown; currency: string; daily: boolean }) {
  return (
    <>
      {BASELINE_METRIC_KEYS.map((k) => (
        <td key={k} className="num px-3 py-1 text-right whitespace-nowrap">
          {formatMetric((metrics ?? null) as Record<string, unknown> | null, metricDef(k), currency, daily)}
        </td>
      ))}
    </>
  );
}
