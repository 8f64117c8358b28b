"use client";
import { useEffect, useMemo, useRef, useState } from "react";
import { AreaSeries, LineStyle, createChart, type AutoscaleInfo, type MouseEventParams, type Time, type UTCTimestamp } from "lightweight-charts";
import { fmtMoney, fmtPct, fmtTime, type EquityRow } from "../report-model";
import { THEME, baseChartOptions, chartSeconds } from "./chart-theme";

/**
 * Equity (area, top pane) and drawdown below the running peak in % (area,
 * bottom pane) of the stored, downsampled curve; one time axis for both.
 */
export function EquityChart({ equity, daily, currency, initialCash }: { equity: EquityRow[]; daily: boolean; currency: string; initialCash: number | null }) {
  const ref = useRef<HTMLDivElement>(null);
  const [hover, setHover] = useState<number | null>(null);
  const prepared = useMemo(() => {
    const { sec, keep } = chartSeconds(equity.map((e) => e.t));
    return { sec, rows: keep.map((i) => equity[i]!) };
  }, [equity]);
  const n = prepared.rows.length;

  useEffect(() => {
    const el = ref.current;
    if (!el || n === 0) return;
    const chart = createChart(el, baseChartOptions(el, daily));
    const eq = chart.addSeries(AreaSeries, {
      lineColor: THEME.up,
      topColor: "rgba(63, 208, 138, 0.25)",
      bottomColor: "rgba(63, 208, 138, 0.02)",
      lineWidth: 2,
      priceLineVisible: false,
      priceFormat: { type: "price", precision: 2, minMove: 0.01 },
    });
    const dd = chart.addSeries(
      AreaSeries,
      {
        lineColor: THEME.down,
        topColor: "rgba(239, 91, 91, 0.05)",
        bottomColor: "rgba(239, 91, 91, 0.35)",
        invertFilledArea: true,
        lineWidth: 1,
        priceLineVisible: false,
        priceFormat: { type: "custom", formatter: (v: number) => `${v.toFixed(1)}%`, minMove: 0.01 },
        // keep 0 at the top and show at least -0.1 % so a flat curve is not stretched
        autoscaleInfoProvider: (base: () => AutoscaleInfo | null) => {
          const r = base();
          return { priceRange: { minValue: Math.min(r?.priceRange?.minValue ?? 0, -0.1), maxValue: 0 } };
        },
      },
      1,
    );
    eq.setData(prepared.rows.map((r, i) => ({ time: prepared.sec[i] as UTCTimestamp, value: r.equity })));
    dd.setData(prepared.rows.map((r, i) => ({ time: prepared.sec[i] as UTCTimestamp, value: -r.dd * 100 })));
    if (initialCash !== null) eq.createPriceLine({ price: initialCash, color: THEME.text, lineWidth: 1, lineStyle: LineStyle.Dashed, axisLabelVisible: false, title: "start" });
    const panes = chart.panes();
    panes[0]?.setStretchFactor(3);
    panes[1]?.setStretchFactor(1.3);
    chart.timeScale().fitContent();
    const bySec = new Map(prepared.sec.map((s, i) => [s, i]));
    const onMove = (p: MouseEventParams<Time>) => setHover(p.point && typeof p.time === "number" ? (bySec.get(p.time) ?? null) : null);
    chart.subscribeCrosshairMove(onMove);
    return () => {
      chart.unsubscribeCrosshairMove(onMove);
      chart.remove();
    };
  }, [prepared, n, daily, initialCash]);

  if (n === 0) return <p className="p-4 text-sm text-dim">The run stored no equity curve.</p>;
  const row = prepared.rows[hover ?? n - 1]!;
  return (
    <div className="min-w-0">
      <div className="num flex flex-wrap gap-x-3 gap-y-0.5 px-3 py-1.5 text-xs" aria-live="off">
        <span className="text-fg">{fmtTime(row.t, daily)}</span>
        <span>
          <span className="text-dim">equity</span> {fmtMoney(row.equity, currency)}
        </span>
        <span>
          <span className="text-dim">low</span> {fmtMoney(row.low, currency)}
        </span>
        <span className="text-bad">
          <span className="text-dim">drawdown</span> {fmtPct(-row.dd)}
        </span>
      </div>
      <div ref={ref} data-testid="equity-chart" role="img" aria-label={`Equity curve and drawdown, ${n} points`} className="relative h-80 w-full min-w-0 overflow-hidden sm:h-[400px]" />
      <p className="px-3 py-1.5 text-[11px] text-dim">Top: account equity (dashed line: starting cash). Bottom: drawdown below the running peak, %. Points are groups of bars; each shows the equity at the group&apos;s last bar and its deepest drawdown.</p>
    </div>
  );
}
