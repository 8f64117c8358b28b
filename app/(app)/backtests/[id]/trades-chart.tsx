"use client";
import { useEffect, useMemo, useRef } from "react";
import { CandlestickSeries, createChart, createSeriesMarkers, type SeriesMarker, type Time, type UTCTimestamp } from "lightweight-charts";
import { fmtInt } from "@/app/(app)/markets/format";
import { tradeMarks, type PriceRow, type TradeRow } from "../report-model";
import { THEME, baseChartOptions, chartSeconds } from "./chart-theme";

/** Above this many trades the markers carry no text (they would only overlap). */
const LABELLED_TRADES = 300;

/**
 * The run's (downsampled) candles with every trade drawn on them: entries as
 * blue arrows (L long / S short), exits as arrows coloured by the trade's
 * result. Each fill is snapped to the candle whose bucket contains it.
 */
export function TradesChart({ prices, trades, daily, decimals, bars }: { prices: PriceRow[]; trades: TradeRow[]; daily: boolean; decimals: number; bars: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const prepared = useMemo(() => {
    const { sec, keep } = chartSeconds(prices.map((p) => p.t));
    const rows = keep.map((i) => prices[i]!);
    const labelled = trades.length <= LABELLED_TRADES;
    const markers: SeriesMarker<Time>[] = tradeMarks(rows, trades).map((m) => {
      const tr = trades[m.trade]!;
      const up = m.action === "buy";
      const color = m.kind === "entry" ? THEME.info : tr.pnl > 0 ? THEME.up : tr.pnl < 0 ? THEME.down : THEME.text;
      return {
        time: sec[m.index] as UTCTimestamp,
        position: up ? "belowBar" : "aboveBar",
        shape: up ? "arrowUp" : "arrowDown",
        color,
        ...(labelled && m.kind === "entry" ? { text: tr.side === "long" ? "L" : "S" } : {}),
      };
    });
    return { sec, rows, markers };
  }, [prices, trades]);
  const n = prepared.rows.length;

  useEffect(() => {
    const el = ref.current;
    if (!el || n === 0) return;
    const chart = createChart(el, baseChartOptions(el, daily));
    const candles = chart.addSeries(CandlestickSeries, {
      upColor: THEME.up,
      downColor: THEME.down,
      wickUpColor: THEME.up,
      wickDownColor: THEME.down,
      borderVisible: false,
      priceLineVisible: false,
      priceFormat: { type: "price", precision: decimals, minMove: 10 ** -decimals },
    });
    candles.setData(prepared.rows.map((p, i) => ({ time: prepared.sec[i] as UTCTimestamp, open: p.o, high: p.h, low: p.l, close: p.c })));
    const markers = createSeriesMarkers(candles, prepared.markers);
    chart.timeScale().fitContent();
    return () => {
      markers.detach();
      chart.remove();
    };
  }, [prepared, n, daily, decimals]);

  if (n === 0) return <p className="p-4 text-sm text-dim">The run stored no price candles.</p>;
  return (
    <div className="min-w-0">
      <div ref={ref} data-testid="trades-chart" role="img" aria-label={`Price candles with ${trades.length} trades`} className="relative h-80 w-full min-w-0 overflow-hidden sm:h-[420px]" />
      <div className="flex flex-wrap gap-x-4 gap-y-1 px-3 py-1.5 text-[11px] text-dim">
        <span>
          <span style={{ color: THEME.info }}>▲ L / ▼ S</span> entry (long / short)
        </span>
        <span>
          <span style={{ color: THEME.up }}>▲▼</span> exit of a winning trade
        </span>
        <span>
          <span style={{ color: THEME.down }}>▲▼</span> exit of a losing trade
        </span>
        <span className="num">
          {fmtInt(n)} candles for {fmtInt(bars)} bars{n < bars ? " (each candle groups consecutive bars; fills are drawn on the candle containing them)" : ""}
        </span>
      </div>
    </div>
  );
}
