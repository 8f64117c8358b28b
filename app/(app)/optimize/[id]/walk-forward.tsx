"use client";
import { useMemo } from "react";
import { METRIC_GROUPS, type EquityRow, fmtNum, fmtPct, fmtTime, formatMetric } from "@/app/(app)/backtests/report-model";
import { EquityChart } from "@/app/(app)/backtests/[id]/equity-chart";
import { Section, signCls } from "@/app/(app)/backtests/ui";
import { type ParamValue, type StoredFold, type StoredResult, fmtCount, fmtObjective, fmtParamList, objectiveLabel } from "../model";

type WalkForward = NonNullable<StoredResult["walkForward"]>;
type WindowMetrics = StoredFold["inSample"]["metrics"];

const IS_CLS = "text-info";
const OOS_CLS = "text-warn";

/** The two labels every walk-forward figure carries. */
export function SampleTag({ oos }: { oos: boolean }) {
  return <span className={`num rounded-sm border px-1 text-[10px] uppercase tracking-wide ${oos ? "border-warn/40 text-warn" : "border-info/40 text-info"}`}>{oos ? "out-of-sample" : "in-sample"}</span>;
}

/**
 * Walk-forward result: in-sample against out-of-sample summary, the folds
 * side by side, the stitched out-of-sample equity and its metrics. Every
 * figure says which sample it is from.
 */
export function WalkForwardView({
  wf,
  objective,
  daily,
  currency,
  cash,
  onBacktest,
  pending,
}: {
  wf: WalkForward;
  objective: string;
  daily: boolean;
  currency: string;
  cash: number | null;
  onBacktest?: (params: Record<string, ParamValue>, key: string) => void;
  pending?: string | null;
}) {
  const equity = useMemo<EquityRow[]>(
    () =>
      (wf.outOfSample?.equity ?? []).flatMap((p) =>
        p && typeof p.t === "number" && typeof p.equity === "number" ? [{ t: p.t, equity: p.equity, low: typeof p.low === "number" ? p.low : p.equity, dd: typeof p.dd === "number" ? p.dd : 0 }] : [],
      ),
    [wf.outOfSample?.equity],
  );
  const oosMetrics = (wf.outOfSample?.metrics ?? null) as Record<string, unknown> | null;
  const w = wf.windows;
  const mv = (k: string) => {
    const v = oosMetrics?.[k];
    return typeof v === "number" ? v : null;
  };

  return (
    <>
      <Section title="Walk-forward: in-sample against out-of-sample" testId="walk-forward-summary">
        <div className="space-y-3 p-4 text-sm">
          {w ? (
            <p className="num text-xs text-dim">
              {fmtCount(w.folds)} folds · {fmtCount(w.inSampleBars)} in-sample + {fmtCount(w.outOfSampleBars)} out-of-sample bars · step {fmtCount(w.stepBars)} · {w.anchored ? "anchored" : "rolling"} · warm-up {w.warmupBars === "auto" ? "auto" : `${fmtCount(w.warmupBars)} bars`} · {w.optimizer} search per fold
            </p>
          ) : null}
          <div className="overflow-x-auto">
            <table className="num w-full max-w-2xl text-xs">
              <thead className="text-left text-[11px] text-dim">
                <tr>
                  <th className="py-1.5 pr-3 font-normal" />
                  <th className={`px-2 py-1.5 text-right font-normal ${IS_CLS}`}>
                    In-sample
                    <span className="block text-[10px] text-dim">mean of folds</span>
                  </th>
                  <th className={`px-2 py-1.5 text-right font-normal ${OOS_CLS}`}>
                    Out-of-sample
                    <span className="block text-[10px] text-dim">mean of folds</span>
                  </th>
                  <th className={`px-2 py-1.5 text-right font-normal ${OOS_CLS}`}>
                    Out-of-sample
                    <span className="block text-[10px] text-dim">stitched curve</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                <tr className="border-t border-line">
                  <th scope="row" className="py-1 pr-3 text-left font-normal text-dim">Sharpe ratio</th>
                  <td className="px-2 py-1 text-right">{fmtNum(wf.inSample?.meanSharpe, 3)}</td>
                  <td className="px-2 py-1 text-right">{fmtNum(wf.outOfSample?.meanSharpe, 3)}</td>
                  <td className="px-2 py-1 text-right">{fmtNum(mv("sharpe"), 3)}</td>
                </tr>
                <tr className="border-t border-line">
                  <th scope="row" className="py-1 pr-3 text-left font-normal text-dim">{objectiveLabel(objective)} (objective)</th>
                  <td className="px-2 py-1 text-right">{fmtObjective(objective, wf.inSample?.meanObjective)}</td>
                  <td className="px-2 py-1 text-right">{fmtObjective(objective, wf.outOfSample?.meanObjective)}</td>
                  <td className="px-2 py-1 text-right text-dim">{objective in (oosMetrics ?? {}) ? fmtObjective(objective, mv(objective), oosMetrics?.profitFactorInfinite === true && objective === "profitFactor") : "—"}</td>
                </tr>
                <tr className="border-t border-line">
                  <th scope="row" className="py-1 pr-3 text-left font-normal text-dim">Total return</th>
                  <td className={`px-3 py-1 text-right ${signCls(wf.inSample?.meanTotalReturn)}`}>{fmtPct(wf.inSample?.meanTotalReturn, 2, true)}</td>
                  <td className="px-2 py-1 text-right text-dim">—</td>
                  <td className={`px-3 py-1 text-right ${signCls(mv("totalReturn"))}`}>{fmtPct(mv("totalReturn"), 2, true)}</td>
                </tr>
                <tr className="border-t border-line">
                  <th scope="row" className="py-1 pr-3 text-left font-normal text-dim">Max drawdown</th>
                  <td className="px-2 py-1 text-right">{fmtPct(wf.inSample?.meanMaxDrawdownPct)}</td>
                  <td className="px-2 py-1 text-right text-dim">—</td>
                  <td className="px-2 py-1 text-right">{fmtPct(mv("maxDrawdownPct"))}</td>
                </tr>
              </tbody>
            </table>
          </div>
          <div className="space-y-1 text-xs" data-testid="sharpe-efficiency">
            <p>
              <span className="text-dim">Sharpe efficiency (mean out-of-sample Sharpe / mean in-sample Sharpe): </span>
              <span className="num text-fg">{fmtNum(wf.sharpeEfficiency, 3)}</span>
            </p>
            <p className="text-[11px] text-dim">
              How much of the in-sample edge survived on data the parameters never saw. Near 1: it carried over; near 0 or negative: the in-sample figures were mostly fitted noise. Shown only when the in-sample mean is positive.
            </p>
          </div>
        </div>
      </Section>

      <Section title={<>Folds <span className="font-normal text-dim">· in-sample and out-of-sample side by side</span></>} testId="walk-forward-folds-section">
        <FoldsTable folds={wf.folds ?? []} objective={objective} daily={daily} onBacktest={onBacktest} pending={pending ?? null} />
      </Section>

      <Section title={<>Stitched out-of-sample equity <SampleTag oos /></>} testId="oos-equity">
        <p className="px-3 pt-2 text-[11px] text-dim">Each fold&apos;s out-of-sample window traded with the parameters chosen on its in-sample window, chained end to end from the starting cash: the only equity curve here the optimiser did not see.</p>
        <EquityChart equity={equity} daily={daily} currency={currency} initialCash={cash} />
      </Section>

      <Section title={<>Out-of-sample metrics (stitched curve) <SampleTag oos /></>} testId="oos-metrics">
        {oosMetrics ? (
          <div className="grid items-start gap-x-px bg-panel sm:grid-cols-2 xl:grid-cols-3">
            {METRIC_GROUPS.filter((g) => g.title !== "Run").map((g) => (
              <table key={g.title} className="w-full bg-panel text-sm">
                <caption className="bg-panel px-3 pt-3 pb-1 text-left text-[11px] uppercase tracking-wide text-dim">{g.title}</caption>
                <tbody>
                  {g.metrics
                    .filter((m) => m.key in oosMetrics)
                    .map((m) => (
                      <tr key={m.key} className="border-t border-line/60" data-metric={m.key}>
                        <th scope="row" className="px-3 py-1 text-left text-xs font-normal text-dim">
                          {m.label}
                        </th>
                        <td className="num px-3 py-1 text-right text-xs whitespace-nowrap">{formatMetric(oosMetrics, m, currency, daily)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            ))}
          </div>
        ) : (
          <p className="p-4 text-sm text-dim">No out-of-sample window ran, so there are no out-of-sample metrics.</p>
        )}
      </Section>
    </>
  );
}

function WindowCells({ m, objective, objectiveValue, oos }: { m: WindowMetrics; objective: string; objectiveValue: number | null; oos: boolean }) {
  const td = `px-2 py-1 text-right whitespace-nowrap ${oos ? "bg-warn/[0.03]" : "bg-info/[0.03]"}`;
  return (
    <>
      <td className={td}>{fmtObjective(objective, objectiveValue, m?.profitFactorInfinite === true && objective === "profitFactor")}</td>
      <td className={td}>{fmtNum(m?.sharpe, 2)}</td>
      <td className={`${td} ${signCls(m?.totalReturn)}`}>{fmtPct(m?.totalReturn, 2, true)}</td>
      <td className={td}>{fmtPct(m?.maxDrawdownPct)}</td>
      <td className={td}>{m?.trades ?? "—"}</td>
    </>
  );
}

export function FoldsTable({
  folds,
  objective,
  daily,
  onBacktest,
  pending,
}: {
  folds: readonly StoredFold[];
  objective: string;
  daily: boolean;
  onBacktest?: (params: Record<string, ParamValue>, key: string) => void;
  pending: string | null;
}) {
  if (folds.length === 0) return <p className="p-4 text-sm text-dim">No fold was stored.</p>;
  const th = "px-2 py-1.5 font-normal whitespace-nowrap";
  const sub = ["objective", "Sharpe", "return", "max DD", "trades"];
  return (
    <div className="overflow-x-auto">
      <table className="num w-full text-xs" data-testid="walk-forward-folds">
        <thead className="text-[11px] text-dim">
          <tr className="uppercase tracking-wide">
            <th className={`${th} text-left`} rowSpan={2}>
              Fold
            </th>
            <th className={`${th} text-left`} rowSpan={2}>
              Chosen parameters
            </th>
            <th className={`${th} border-l border-line text-center ${IS_CLS}`} colSpan={7}>
              In-sample (where the parameters were chosen)
            </th>
            <th className={`${th} border-l border-line text-center ${OOS_CLS}`} colSpan={6}>
              Out-of-sample (traded blind)
            </th>
            <th className={`${th} border-l border-line text-center`} colSpan={2}>
              Overfitting (in-sample selection)
            </th>
            {onBacktest ? <th className={th} rowSpan={2} /> : null}
          </tr>
          <tr className="text-right">
            <th className={`${th} border-l border-line text-left ${IS_CLS}`}>window (UTC)</th>
            {sub.map((s) => (
              <th key={`is-${s}`} className={`${th} ${IS_CLS}`}>
                {s}
              </th>
            ))}
            <th className={`${th} ${IS_CLS}`}>trials</th>
            <th className={`${th} border-l border-line text-left ${OOS_CLS}`}>window (UTC)</th>
            {sub.map((s) => (
              <th key={`oos-${s}`} className={`${th} ${OOS_CLS}`}>
                {s}
              </th>
            ))}
            <th className={`${th} border-l border-line`} title="Deflated Sharpe ratio of the fold's in-sample best">
              DSR
            </th>
            <th className={th} title="Probability of backtest overfitting across the fold's in-sample trials">
              PBO
            </th>
          </tr>
        </thead>
        <tbody>
          {folds.map((f) => {
            const i = f.inSample;
            const o = f.outOfSample;
            const key = `fold-${f.index}`;
            return (
              <tr key={f.index ?? -1} className="border-t border-line align-top" data-testid={`fold-row-${f.index}`}>
                <td className="px-2 py-1 text-dim">{typeof f.index === "number" ? f.index + 1 : "—"}</td>
                <td className="max-w-48 px-2 py-1 break-words">
                  {f.params ? fmtParamList(f.params) : <span className="text-dim">none</span>}
                  {f.error ? <div className="text-bad">error: {f.error}</div> : null}
                </td>
                <td className="border-l border-line bg-info/[0.03] px-2 py-1 whitespace-nowrap text-dim">
                  {fmtTime(i?.startTs, daily)} → {fmtTime(i?.endTs, daily)}
                  <div className="text-[10px]">{fmtCount(i?.bars)} bars</div>
                </td>
                <WindowCells m={i?.metrics ?? null} objective={objective} objectiveValue={i?.objective ?? null} oos={false} />
                <td className="bg-info/[0.03] px-2 py-1 text-right whitespace-nowrap">
                  {fmtCount(i?.trials)}
                  {i?.failed ? <span className="text-bad"> ({i.failed} failed)</span> : null}
                </td>
                <td className="border-l border-line bg-warn/[0.03] px-2 py-1 whitespace-nowrap text-dim">
                  {fmtTime(o?.startTs, daily)} → {fmtTime(o?.endTs, daily)}
                  <div className="text-[10px]">{fmtCount(o?.bars)} bars</div>
                </td>
                <WindowCells m={o?.metrics ?? null} objective={objective} objectiveValue={o?.objective ?? null} oos />
                <td className="border-l border-line px-2 py-1 text-right">{fmtNum(f.overfit?.deflatedSharpe?.dsr, 3)}</td>
                <td className="px-2 py-1 text-right">{fmtPct(f.overfit?.pbo?.pbo, 1)}</td>
                {onBacktest ? (
                  <td className="px-2 py-1">
                    {f.params ? (
                      <button
                        type="button"
                        disabled={pending !== null}
                        onClick={() => onBacktest(f.params as Record<string, ParamValue>, key)}
                        className="rounded-sm border border-line px-1.5 py-0.5 text-[11px] text-dim hover:border-accent hover:text-accent disabled:opacity-50"
                        title="Run a full backtest of this fold's parameters over the whole range"
                      >
                        {pending === key ? "Starting…" : "Backtest"}
                      </button>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="px-3 py-1.5 text-[11px] text-dim">
        In-sample: the window the parameters were picked on (its figures flatter them). Out-of-sample: the window right after, traded with those parameters without having seen it. DSR and PBO judge each fold&apos;s in-sample pick (see below).
      </p>
    </div>
  );
}
