"use client";

import { useEffect, useMemo, useRef, useState, type JSX } from "react";
import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  HistogramSeries,
  LineSeries,
  LineStyle,
  createChart,
  type CandlestickData,
  type HistogramData,
  type IChartApi,
  type ISeriesApi,
  type LineData,
  type MouseEventParams,
  type Time,
  type UTCTimestamp,
  type WhitespaceData,
} from "lightweight-charts";
import { bollinger, ema, rsi, sma, vwap } from "./indicators";

/** OHLCV columns of one series. t = bar START, UTC epoch ms, ascending. */
export interface ChartBars {
  t: number[];
  o: number[];
  h: number[];
  l: number[];
  c: number[];
  v: number[];
}

export interface PriceChartProps {
  symbol: string;
  timeframe: string;
  bars: ChartBars;
  /** true for 1d bars: times are shown as dates only. */
  daily: boolean;
  /** Called when the user scrolls near the oldest loaded bar (to load older history). */
  onReachStart?: () => void;
}

const THEME = {
  bg: "#10151a",
  grid: "#1b232b",
  text: "#7d8a96",
  line: "#232d36",
  panel2: "#151c23",
  up: "#3fd08a",
  down: "#ef5b5b",
  upVol: "rgba(63, 208, 138, 0.35)",
  downVol: "rgba(239, 91, 91, 0.35)",
} as const;

type OverlayId = "sma" | "ema" | "bb" | "vwap" | "rsi";

const OVERLAYS: { id: OverlayId; label: string; title: string; color: string }[] = [
  { id: "sma", label: "SMA 20", title: "Simple moving average of the close, 20 bars", color: "#5aa9e6" },
  { id: "ema", label: "EMA 50", title: "Exponential moving average of the close, 50 bars", color: "#e5b94a" },
  { id: "bb", label: "BB 20/2", title: "Bollinger bands: SMA 20 of the close +/- 2 population standard deviations", color: "#a48fe0" },
  { id: "vwap", label: "VWAP", title: "Volume-weighted average price (intraday: resets at 00:00 UTC; daily: from the first loaded bar)", color: "#e07fc0" },
  { id: "rsi", label: "RSI 14", title: "Relative strength index, 14 bars, Wilder smoothing (lower pane)", color: "#d5dde4" },
];

const OVERLAY_COLOR: Record<OverlayId, string> = Object.fromEntries(OVERLAYS.map((o) => [o.id, o.color])) as Record<OverlayId, string>;

/** Above this many bars the initial view shows the most recent ones instead of squeezing everything in. */
const INITIAL_VISIBLE_BARS = 400;
const DAY_MS = 86_400_000;
/** Date's valid range; anything outside cannot be formatted. */
const MAX_ABS_MS = 8.64e15;

interface Prepared {
  /** bar start, epoch ms */
  t: number[];
  /** bar start, epoch seconds, strictly ascending (the chart's time axis) */
  sec: UTCTimestamp[];
  o: number[];
  h: number[];
  l: number[];
  c: number[];
  /** NaN when the stored volume is missing */
  v: number[];
  /** bars that could not be drawn (non-finite price or time, or not strictly after the previous bar) */
  dropped: number;
  total: number;
  precision: number;
  index: Map<number, number>;
}

function prepare(bars: ChartBars): Prepared {
  const p: Prepared = { t: [], sec: [], o: [], h: [], l: [], c: [], v: [], dropped: 0, total: bars.t.length, precision: 2, index: new Map() };
  let lastSec = -Infinity;
  for (let i = 0; i < bars.t.length; i++) {
    const t = bars.t[i] ?? Number.NaN;
    const o = bars.o[i] ?? Number.NaN;
    const h = bars.h[i] ?? Number.NaN;
    const l = bars.l[i] ?? Number.NaN;
    const c = bars.c[i] ?? Number.NaN;
    const sec = Math.floor(t / 1000);
    if (![t, o, h, l, c].every(Number.isFinite) || Math.abs(t) > MAX_ABS_MS || sec <= lastSec) {
      p.dropped++;
      continue;
    }
    lastSec = sec;
    const v = bars.v[i];
    p.index.set(sec, p.t.length);
    p.t.push(t);
    p.sec.push(sec as UTCTimestamp);
    p.o.push(o);
    p.h.push(h);
    p.l.push(l);
    p.c.push(c);
    p.v.push(v !== undefined && Number.isFinite(v) ? v : Number.NaN);
  }
  p.precision = pricePrecision(p);
  return p;
}

/** Decimals the stored prices actually use (2..8), from a sample of bars. */
function pricePrecision(p: Prepared): number {
  let best = 2;
  const n = p.c.length;
  const step = Math.max(1, Math.floor(n / 300));
  for (let i = 0; i < n; i += step) {
    for (const x of [p.o[i], p.h[i], p.l[i], p.c[i]]) {
      if (x === undefined) continue;
      let d = 0;
      for (; d < 8; d++) {
        const scaled = Math.abs(x) * 10 ** d;
        // tolerance: a few ulps of the scaled value (decimal prices are not exact in binary)
        if (Math.abs(scaled - Math.round(scaled)) <= Math.max(1e-7, scaled * 1e-14)) break;
      }
      if (d > best) best = d;
    }
  }
  return best;
}

function fmtTime(ms: number, daily: boolean): string {
  const iso = new Date(ms).toISOString();
  return daily ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });

function fmtVol(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "—";
  if (Math.abs(v) >= 10_000) return compact.format(v);
  return v.toLocaleString("en-US", { maximumFractionDigits: Math.abs(v) < 1 ? 6 : 2 });
}

function fmtPrice(x: number | undefined, precision: number): string {
  return x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(precision);
}

function lineData(sec: UTCTimestamp[], values: Float64Array): LineData<Time>[] {
  const out: LineData<Time>[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const time = sec[i];
    // warm-up and undefined values are NaN and are simply not plotted
    if (value !== undefined && time !== undefined && Number.isFinite(value)) out.push({ time, value });
  }
  return out;
}

interface Indicators {
  sma20: Float64Array;
  ema50: Float64Array;
  bb: { mid: Float64Array; upper: Float64Array; lower: Float64Array };
  vwap: Float64Array;
  rsi14: Float64Array;
  vwapResetsDaily: boolean;
}

function computeIndicators(p: Prepared, daily: boolean): Indicators {
  // VWAP anchoring: for intraday bars the accumulation restarts at each 00:00 UTC (session VWAP).
  // For daily bars (and anything coarser, e.g. weekly bars passed with daily=false) a daily reset
  // would make VWAP equal each bar's own typical price, so it never resets: it is anchored at the
  // first loaded bar and accumulates over the loaded range. Still look-ahead free, but its level
  // depends on where the loaded range starts.
  let minStep = Infinity;
  for (let i = 1; i < p.t.length; i++) minStep = Math.min(minStep, (p.t[i] as number) - (p.t[i - 1] as number));
  const vwapResetsDaily = !daily && minStep < DAY_MS;
  return {
    sma20: sma(p.c, 20),
    ema50: ema(p.c, 50),
    bb: bollinger(p.c, 20, 2),
    vwap: vwap(p.t, p.h, p.l, p.c, p.v, vwapResetsDaily),
    rsi14: rsi(p.c, 14),
    vwapResetsDaily,
  };
}

interface ChartHandle {
  chart: IChartApi;
  candles: ISeriesApi<"Candlestick">;
  volume: ISeriesApi<"Histogram">;
  lines: Map<string, ISeriesApi<"Line">>;
}

function readCssVar(name: string, fallback: string): string {
  if (typeof window === "undefined") return fallback;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/**
 * Candlestick chart of stored bars with volume, optional overlays (SMA 20, EMA 50, Bollinger 20/2,
 * VWAP) and an RSI 14 pane. Renders only the bars it is given; all times are UTC.
 */
export function PriceChart({ symbol, timeframe, bars, daily, onReachStart }: PriceChartProps): JSX.Element {
  const reachStartRef = useRef(onReachStart);
  reachStartRef.current = onReachStart;
  /** What the chart showed last: to keep the view when older bars are prepended. */
  const shownRef = useRef<{ key: string; n: number; lastSec: number | undefined } | null>(null);
  const containerRef = useRef<HTMLDivElement>(null);
  const handleRef = useRef<ChartHandle | null>(null);
  const [enabled, setEnabled] = useState<Record<OverlayId, boolean>>({ sma: false, ema: false, bb: false, vwap: false, rsi: false });
  /** hovered bar start in epoch seconds; null = not hovering (the readout shows the last bar) */
  const [hoverSec, setHoverSec] = useState<number | null>(null);

  const prepared = useMemo(() => prepare(bars), [bars]);
  const ind = useMemo(() => computeIndicators(prepared, daily), [prepared, daily]);
  const hasData = prepared.t.length > 0;

  // Create the chart once per mounted container; removed on unmount (and if the data goes empty).
  useEffect(() => {
    const el = containerRef.current;
    if (!hasData || !el) return;
    const chart = createChart(el, {
      autoSize: true,
      // fallback size if ResizeObserver is unavailable
      width: el.clientWidth,
      height: el.clientHeight,
      layout: {
        background: { type: ColorType.Solid, color: THEME.bg },
        textColor: THEME.text,
        fontSize: 11,
        fontFamily: readCssVar("--font-mono", "ui-monospace, monospace"),
        panes: { separatorColor: THEME.line, separatorHoverColor: "rgba(125, 138, 150, 0.2)" },
      },
      grid: { vertLines: { color: THEME.grid }, horzLines: { color: THEME.grid } },
      crosshair: {
        mode: CrosshairMode.Normal,
        vertLine: { color: THEME.text, labelBackgroundColor: THEME.panel2, style: LineStyle.Dashed, width: 1 },
        horzLine: { color: THEME.text, labelBackgroundColor: THEME.panel2, style: LineStyle.Dashed, width: 1 },
      },
      rightPriceScale: { borderColor: THEME.line },
      timeScale: { borderColor: THEME.line, rightOffset: 3 },
      // Vertical swipes scroll the page on touch devices; horizontal drag, pinch, wheel and
      // mouse drag keep the library's default zoom/pan.
      handleScroll: { vertTouchDrag: false },
    });
    const candles = chart.addSeries(CandlestickSeries, {
      upColor: THEME.up,
      downColor: THEME.down,
      wickUpColor: THEME.up,
      wickDownColor: THEME.down,
      borderVisible: false,
      priceLineVisible: true,
      priceLineColor: THEME.text,
    });
    candles.priceScale().applyOptions({ scaleMargins: { top: 0.06, bottom: 0.24 } });
    const volume = chart.addSeries(HistogramSeries, {
      priceScaleId: "volume",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });

    const onMove = (param: MouseEventParams<Time>) => {
      setHoverSec(param.point && typeof param.time === "number" ? param.time : null);
    };
    chart.subscribeCrosshairMove(onMove);
    const onRange = (range: { from: number; to: number } | null) => {
      if (range && range.from < 20) reachStartRef.current?.();
    };
    chart.timeScale().subscribeVisibleLogicalRangeChange(onRange);
    handleRef.current = { chart, candles, volume, lines: new Map() };
    return () => {
      chart.timeScale().unsubscribeVisibleLogicalRangeChange(onRange);
      chart.unsubscribeCrosshairMove(onMove);
      chart.remove();
      handleRef.current = null;
    };
  }, [hasData]);

  // Price and volume data; a new series (symbol/timeframe) replaces the data and resets the view.
  useEffect(() => {
    const h = handleRef.current;
    if (!h) return;
    const p = prepared;
    h.chart.applyOptions({
      timeScale: { timeVisible: !daily, secondsVisible: false },
      localization: { timeFormatter: (time: Time) => (typeof time === "number" ? fmtTime(time * 1000, daily) : String(time)) },
    });
    h.candles.applyOptions({ priceFormat: { type: "price", precision: p.precision, minMove: 10 ** -p.precision } });
    const candleData: CandlestickData<Time>[] = [];
    const volumeData: (HistogramData<Time> | WhitespaceData<Time>)[] = [];
    for (let i = 0; i < p.sec.length; i++) {
      const time = p.sec[i] as UTCTimestamp;
      const o = p.o[i] as number;
      const c = p.c[i] as number;
      candleData.push({ time, open: o, high: p.h[i] as number, low: p.l[i] as number, close: c });
      const v = p.v[i] as number;
      volumeData.push(Number.isFinite(v) ? { time, value: v, color: c >= o ? THEME.upVol : THEME.downVol } : { time });
    }
    const n = candleData.length;
    const key = `${symbol}:${timeframe}`;
    const before = shownRef.current;
    const lastSec = p.sec[n - 1];
    const prepended = before && before.key === key && before.lastSec === lastSec && n > before.n ? n - before.n : 0;
    const range = prepended ? h.chart.timeScale().getVisibleLogicalRange() : null;
    h.candles.setData(candleData);
    h.volume.setData(volumeData);
    shownRef.current = { key, n, lastSec };
    if (range) {
      // Older bars were added on the left: keep the same bars in view.
      h.chart.timeScale().setVisibleLogicalRange({ from: range.from + prepended, to: range.to + prepended });
    } else if (n > INITIAL_VISIBLE_BARS) h.chart.timeScale().setVisibleLogicalRange({ from: n - INITIAL_VISIBLE_BARS, to: n - 1 + 3 });
    else h.chart.timeScale().fitContent();
  }, [prepared, daily, hasData, symbol, timeframe]);

  // Overlay and RSI series follow the toggles; toggling keeps the current zoom.
  useEffect(() => {
    const h = handleRef.current;
    if (!h) return;
    const sec = prepared.sec;
    const wanted = new Map<string, { values: Float64Array; color: string; pane: number; dashed?: boolean }>();
    if (enabled.sma) wanted.set("sma", { values: ind.sma20, color: OVERLAY_COLOR.sma, pane: 0 });
    if (enabled.ema) wanted.set("ema", { values: ind.ema50, color: OVERLAY_COLOR.ema, pane: 0 });
    if (enabled.bb) {
      wanted.set("bb-upper", { values: ind.bb.upper, color: OVERLAY_COLOR.bb, pane: 0 });
      wanted.set("bb-mid", { values: ind.bb.mid, color: OVERLAY_COLOR.bb, pane: 0, dashed: true });
      wanted.set("bb-lower", { values: ind.bb.lower, color: OVERLAY_COLOR.bb, pane: 0 });
    }
    if (enabled.vwap) wanted.set("vwap", { values: ind.vwap, color: OVERLAY_COLOR.vwap, pane: 0 });
    if (enabled.rsi) wanted.set("rsi", { values: ind.rsi14, color: OVERLAY_COLOR.rsi, pane: 1 });

    for (const [key, series] of h.lines) {
      if (!wanted.has(key)) {
        h.chart.removeSeries(series); // an emptied RSI pane is removed by the library
        h.lines.delete(key);
      }
    }
    for (const [key, spec] of wanted) {
      let series = h.lines.get(key);
      if (!series) {
        series = h.chart.addSeries(
          LineSeries,
          {
            color: spec.color,
            lineWidth: 1,
            lineStyle: spec.dashed ? LineStyle.Dashed : LineStyle.Solid,
            priceLineVisible: false,
            lastValueVisible: key === "rsi",
            crosshairMarkerRadius: 2,
            ...(key === "rsi"
              ? {
                  priceFormat: { type: "price" as const, precision: 1, minMove: 0.1 },
                  autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 100 } }),
                }
              : {}),
          },
          spec.pane,
        );
        if (key === "rsi") {
          for (const price of [30, 70]) {
            series.createPriceLine({ price, color: THEME.text, lineWidth: 1, lineStyle: LineStyle.Dashed, axisLabelVisible: true, title: "" });
          }
          const panes = h.chart.panes();
          panes[0]?.setStretchFactor(3);
          panes[1]?.setStretchFactor(1);
        }
        h.lines.set(key, series);
      }
      series.setData(lineData(sec, spec.values));
    }
  }, [enabled, ind, prepared, hasData]);

  if (!hasData) {
    return (
      <div className="border border-line bg-panel p-4 text-sm text-dim">
        {prepared.total === 0 ? "No bars stored for this series yet." : `None of the ${prepared.total} stored bars could be drawn (non-finite price or time, or times not ascending).`}
      </div>
    );
  }

  const last = prepared.t.length - 1;
  const idx = (hoverSec !== null ? prepared.index.get(hoverSec) : undefined) ?? last;
  const close = prepared.c[idx] as number;
  const prevClose = idx > 0 ? prepared.c[idx - 1] : undefined;
  const change = prevClose !== undefined && prevClose !== 0 ? ((close - prevClose) / Math.abs(prevClose)) * 100 : undefined;
  const prec = prepared.precision;
  const indicatorReadout: { label: string; color: string; text: string }[] = [];
  if (enabled.sma) indicatorReadout.push({ label: "SMA20", color: OVERLAY_COLOR.sma, text: fmtPrice(ind.sma20[idx], prec) });
  if (enabled.ema) indicatorReadout.push({ label: "EMA50", color: OVERLAY_COLOR.ema, text: fmtPrice(ind.ema50[idx], prec) });
  if (enabled.bb) {
    indicatorReadout.push({
      label: "BB",
      color: OVERLAY_COLOR.bb,
      text: `${fmtPrice(ind.bb.upper[idx], prec)} / ${fmtPrice(ind.bb.mid[idx], prec)} / ${fmtPrice(ind.bb.lower[idx], prec)}`,
    });
  }
  if (enabled.vwap) indicatorReadout.push({ label: "VWAP", color: OVERLAY_COLOR.vwap, text: fmtPrice(ind.vwap[idx], prec) });
  if (enabled.rsi) indicatorReadout.push({ label: "RSI14", color: OVERLAY_COLOR.rsi, text: fmtPrice(ind.rsi14[idx], 1) });

  return (
    <div className="min-w-0 border border-line bg-panel">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-line px-3 py-2">
        <div className="flex min-w-0 items-baseline gap-2">
          <span className="num truncate text-sm text-fg">{symbol}</span>
          <span className="num text-xs text-dim">{timeframe}</span>
          <span className="text-[11px] text-dim">UTC</span>
        </div>
        <div className="flex flex-wrap gap-1" role="group" aria-label="Indicators">
          {OVERLAYS.map((o) => {
            const on = enabled[o.id];
            return (
              <button
                key={o.id}
                type="button"
                title={o.title}
                aria-pressed={on}
                onClick={() => setEnabled((e) => ({ ...e, [o.id]: !e[o.id] }))}
                className={`num flex items-center gap-1.5 rounded-sm border px-2 py-0.5 text-[11px] ${on ? "border-dim bg-panel-2 text-fg" : "border-line text-dim hover:text-fg"}`}
              >
                <span aria-hidden className="inline-block h-2 w-2" style={{ background: on ? o.color : "transparent", boxShadow: `inset 0 0 0 1px ${o.color}` }} />
                {o.label}
              </button>
            );
          })}
        </div>
      </div>

      <div data-testid="ohlc-readout" aria-live="off" className="num flex flex-wrap gap-x-3 gap-y-0.5 px-3 py-1.5 text-xs">
        <span className="text-fg">{fmtTime(prepared.t[idx] as number, daily)}</span>
        <span>
          <span className="text-dim">O</span> {fmtPrice(prepared.o[idx], prec)}
        </span>
        <span>
          <span className="text-dim">H</span> {fmtPrice(prepared.h[idx], prec)}
        </span>
        <span>
          <span className="text-dim">L</span> {fmtPrice(prepared.l[idx], prec)}
        </span>
        <span>
          <span className="text-dim">C</span> {fmtPrice(close, prec)}
        </span>
        <span>
          <span className="text-dim">V</span> {fmtVol(prepared.v[idx])}
        </span>
        <span className={change === undefined || change === 0 ? "text-dim" : change > 0 ? "text-accent" : "text-bad"}>
          {change === undefined ? "—" : `${change > 0 ? "+" : ""}${change.toFixed(2)}%`}
        </span>
        {indicatorReadout.map((r) => (
          <span key={r.label}>
            <span style={{ color: r.color }}>{r.label}</span> {r.text}
          </span>
        ))}
      </div>

      <div
        ref={containerRef}
        data-testid="price-chart"
        role="img"
        aria-label={`${symbol} ${timeframe} candlestick chart, ${prepared.t.length} bars`}
        className="relative h-80 w-full min-w-0 overflow-hidden sm:h-[420px]"
      />

      {prepared.dropped > 0 || (enabled.vwap && !ind.vwapResetsDaily) ? (
        <div className="space-y-0.5 border-t border-line px-3 py-1.5 text-[11px]">
          {prepared.dropped > 0 ? (
            <p className="text-warn">
              {prepared.dropped} of {prepared.total} stored bars not drawn (non-finite price or time, or time not after the previous bar).
            </p>
          ) : null}
          {enabled.vwap && !ind.vwapResetsDaily ? <p className="text-dim">VWAP is anchored at the first loaded bar ({fmtTime(prepared.t[0] as number, daily)}).</p> : null}
        </div>
      ) : null}
    </div>
  );
}
