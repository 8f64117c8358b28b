import { ColorType, CrosshairMode, LineStyle, type DeepPartial, type ChartOptions, type Time } from "lightweight-charts";
import { fmtTime } from "../report-model";

/** The same palette as the Markets price chart. */
export const THEME = {
  bg: "#10151a",
  grid: "#1b232b",
  text: "#7d8a96",
  line: "#232d36",
  panel2: "#151c23",
  up: "#3fd08a",
  down: "#ef5b5b",
  info: "#5aa9e6",
  warn: "#e5b94a",
} as const;

function cssVar(name: string, fallback: string): string {
  if (typeof window === "undefined") return fallback;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** Chart options shared by the report's charts: dark, mono font, UTC time labels, page-scrolling vertical swipes. */
export function baseChartOptions(el: HTMLElement, daily: boolean): DeepPartial<ChartOptions> {
  return {
    autoSize: true,
    width: el.clientWidth,
    height: el.clientHeight,
    layout: {
      background: { type: ColorType.Solid, color: THEME.bg },
      textColor: THEME.text,
      fontSize: 11,
      fontFamily: cssVar("--font-mono", "ui-monospace, monospace"),
      panes: { separatorColor: THEME.line, separatorHoverColor: "rgba(125, 138, 150, 0.2)" },
    },
    grid: { vertLines: { color: THEME.grid }, horzLines: { color: THEME.grid } },
    crosshair: {
      mode: CrosshairMode.Normal,
      vertLine: { color: THEME.text, labelBackgroundColor: THEME.panel2, style: LineStyle.Dashed, width: 1 },
      horzLine: { color: THEME.text, labelBackgroundColor: THEME.panel2, style: LineStyle.Dashed, width: 1 },
    },
    rightPriceScale: { borderColor: THEME.line },
    timeScale: { borderColor: THEME.line, timeVisible: !daily, secondsVisible: false },
    localization: { timeFormatter: (time: Time) => (typeof time === "number" ? fmtTime(time * 1000, daily) : String(time)) },
    handleScroll: { vertTouchDrag: false },
  };
}

/** Epoch-ms times to strictly ascending chart seconds; indexes of the points kept. */
export function chartSeconds(times: readonly number[]): { sec: number[]; keep: number[] } {
  const sec: number[] = [];
  const keep: number[] = [];
  let last = -Infinity;
  times.forEach((t, i) => {
    const s = Math.floor(t / 1000);
    if (!Number.isFinite(s) || Math.abs(t) > 8.64e15 || s <= last) return;
    last = s;
    sec.push(s);
    keep.push(i);
  });
  return { sec, keep };
}
