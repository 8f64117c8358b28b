/**
 * A backtest run as one standalone HTML file: inline CSS and inline SVG only,
 * no script, no font or image from the network (a Content-Security-Policy
 * meta tag forbids them as well). Every string taken from the run is escaped.
 * Figures come from the stored run, formatted by the same model as the web
 * report (app/(app)/backtests/report-model.ts).
 */
import type { BacktestRunDetail } from "@/engine/store/backtests";
import {
  HEADLINE_KEYS,
  METRIC_GROUPS,
  MONTH_NAMES,
  cellPct,
  configRows,
  fmtMoney,
  fmtNum,
  fmtPct,
  fmtPlain,
  fmtPrice,
  fmtTime,
  formatMetric,
  heatColor,
  isDaily,
  metricDef,
  metricValue,
  monthlyGrid,
  pnlHistogram,
  priceDecimals,
  toRunView,
  type RunView,
} from "@/app/(app)/backtests/report-model";

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text or attribute value safe to place in HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]!);
}

const e = escapeHtml;
/** SVG coordinates: fixed decimals, never NaN in the markup. */
const n2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "0");

const CSS = `
:root{color-scheme:dark}
*{box-sizing:border-box}
body{margin:0;background:#0a0d10;color:#d5dde4;font:14px/1.45 "Inter Variable",Inter,ui-sans-serif,system-ui,sans-serif;-webkit-font-smoothing:antialiased}
main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:18px;margin:0 0 4px}
h2{font-size:13px;font-weight:600;margin:0;padding:10px 14px;border-bottom:1px solid #232d36}
section{background:#10151a;border:1px solid #232d36;margin:14px 0;min-width:0}
.num,td,.mono{font-family:"JetBrains Mono Variable","JetBrains Mono",ui-monospace,SFMono-Regular,monospace;font-variant-numeric:tabular-nums}
.dim{color:#7d8a96}.pos{color:#3fd08a}.neg{color:#ef5b5b}.warn{color:#e5b94a}
.small{font-size:11px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{padding:4px 10px;text-align:left;white-space:nowrap;font-size:12px}
th{font-weight:400;color:#7d8a96}
tbody tr{border-top:1px solid #1b232b}
td.r,th.r{text-align:right}
dl.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:1px;background:#232d36;margin:0}
dl.grid div{background:#10151a;padding:8px 14px;min-width:0}
dt{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#7d8a96}
dd{margin:2px 0 0;font-size:12px;overflow-wrap:anywhere}
dl.head dd{font-size:16px}
.alert{border:1px solid rgba(239,91,91,.5);background:rgba(239,91,91,.1);color:#ef5b5b;padding:10px 14px;margin:14px 0;white-space:pre-wrap;overflow-wrap:anywhere}
.note{border:1px solid rgba(229,185,74,.4);background:rgba(229,185,74,.06);color:#e5b94a;padding:8px 14px;margin:14px 0}
.chart{overflow-x:auto;padding:8px}
.chart svg{display:block;width:100%;min-width:640px;height:auto}
svg text{font:11px "JetBrains Mono",ui-monospace,monospace;fill:#7d8a96}
.metrics{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:1px;background:#232d36}
.metrics table{background:#10151a}
caption{caption-side:top;text-align:left;padding:10px 10px 4px;font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#7d8a96}
.heat td{text-align:right;padding:4px 6px}
.heat td.y{border-left:1px solid #232d36;font-weight:600}
p.foot{font-size:11px;color:#7d8a96;padding:4px 14px 10px;margin:0}
`;

interface Pt {
  t: number;
  v: number;
}

/** A time series as an inline SVG line (and area) chart with y gridlines and first / middle / last dates. */
function svgTimeChart(points: Pt[], o: { label: string; stroke: string; fill: string; yFmt: (v: number) => string; daily: boolean; baseline?: number; areaTo: "bottom" | "zero"; height?: number }): string {
  if (points.length === 0) return `<p class="foot">No data stored.</p>`;
  const W = 1000;
  const H = o.height ?? 260;
  const padL = 84;
  const padR = 12;
  const padT = 10;
  const padB = 24;
  let t0 = Infinity;
  let t1 = -Infinity;
  let lo = o.areaTo === "zero" ? 0 : Infinity;
  let hi = o.areaTo === "zero" ? 0 : -Infinity;
  for (const p of points) {
    t0 = Math.min(t0, p.t);
    t1 = Math.max(t1, p.t);
    lo = Math.min(lo, p.v);
    hi = Math.max(hi, p.v);
  }
  if (o.baseline !== undefined && Number.isFinite(o.baseline)) {
    lo = Math.min(lo, o.baseline);
    hi = Math.max(hi, o.baseline);
  }
  if (hi === lo) {
    const pad = Math.abs(hi) > 0 ? Math.abs(hi) * 0.01 : 1;
    hi += pad;
    lo -= pad;
  }
  const x = (t: number) => padL + (t1 > t0 ? ((t - t0) / (t1 - t0)) * (W - padL - padR) : (W - padL - padR) / 2);
  const y = (v: number) => padT + ((hi - v) / (hi - lo)) * (H - padT - padB);
  const line = points.map((p, i) => `${i ? "L" : "M"}${n2(x(p.t))} ${n2(y(p.v))}`).join("");
  const base = o.areaTo === "zero" ? y(0) : H - padB;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const area = `${line}L${n2(x(last.t))} ${n2(base)}L${n2(x(first.t))} ${n2(base)}Z`;
  const grid: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    const yy = y(v);
    grid.push(`<line x1="${padL}" x2="${W - padR}" y1="${n2(yy)}" y2="${n2(yy)}" stroke="#1b232b"/><text x="${padL - 6}" y="${n2(yy + 4)}" text-anchor="end">${e(o.yFmt(v))}</text>`);
  }
  const mid = points[Math.floor(points.length / 2)]!;
  const xl = [
    { t: first.t, anchor: "start" },
    { t: mid.t, anchor: "middle" },
    { t: last.t, anchor: "end" },
  ]
    .map((l) => `<text x="${n2(x(l.t))}" y="${H - 6}" text-anchor="${l.anchor}">${e(fmtTime(l.t, o.daily))}</text>`)
    .join("");
  const baseline = o.baseline !== undefined && Number.isFinite(o.baseline) ? `<line x1="${padL}" x2="${W - padR}" y1="${n2(y(o.baseline))}" y2="${n2(y(o.baseline))}" stroke="#7d8a96" stroke-dasharray="4 4"/>` : "";
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${e(o.label)}">${grid.join("")}${baseline}<path d="${area}" fill="${o.fill}" stroke="none"/><path d="${line}" fill="none" stroke="${o.stroke}" stroke-width="1.5"/><line x1="${padL}" x2="${padL}" y1="${padT}" y2="${H - padB}" stroke="#232d36"/>${xl}</svg>`;
}

function svgHistogram(run: RunView): string {
  const { bins, width } = pnlHistogram(run.trades.map((t) => t.pnl));
  if (bins.length === 0) return `<p class="foot">No closed trades, so no distribution.</p>`;
  const W = 1000;
  const H = 240;
  const padL = 50;
  const padR = 12;
  const padT = 10;
  const padB = 24;
  const maxCount = Math.max(1, ...bins.map((b) => b.wins + b.losses + b.even));
  const bw = (W - padL - padR) / bins.length;
  const y = (c: number) => padT + (1 - c / maxCount) * (H - padT - padB);
  const rects: string[] = [];
  bins.forEach((b, k) => {
    let acc = 0;
    for (const s of [
      { c: b.losses, color: "#ef5b5b", what: "losing" },
      { c: b.even, color: "#7d8a96", what: "breakeven" },
      { c: b.wins, color: "#3fd08a", what: "winning" },
    ]) {
      if (s.c === 0) continue;
      const top = y(acc + s.c);
      const bottom = y(acc);
      acc += s.c;
      rects.push(
        `<rect x="${n2(padL + k * bw + bw * 0.08)}" y="${n2(top)}" width="${n2(bw * 0.84)}" height="${n2(bottom - top)}" fill="${s.color}" fill-opacity="0.85"><title>${e(`${fmtMoney(b.lo, run.currency)} to ${fmtMoney(b.hi, run.currency)}: ${s.c} ${s.what} trade${s.c === 1 ? "" : "s"}`)}</title></rect>`,
      );
    }
  });
  const first = bins[0]!;
  const last = bins[bins.length - 1]!;
  const xOf = (v: number) => padL + ((v - first.lo) / (last.hi - first.lo)) * (W - padL - padR);
  const zero = first.lo < 0 && last.hi > 0 ? `<line x1="${n2(xOf(0))}" x2="${n2(xOf(0))}" y1="${padT}" y2="${H - padB}" stroke="#7d8a96" stroke-dasharray="3 3"/><text x="${n2(xOf(0))}" y="${H - 6}" text-anchor="middle">0</text>` : "";
  const wins = run.trades.filter((t) => t.pnl > 0).length;
  const losses = run.trades.filter((t) => t.pnl < 0).length;
  return (
    `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Histogram of trade results">` +
    `<line x1="${padL}" x2="${W - padR}" y1="${H - padB}" y2="${H - padB}" stroke="#232d36"/>` +
    `<text x="${padL - 6}" y="${n2(y(maxCount) + 4)}" text-anchor="end">${maxCount}</text><text x="${padL - 6}" y="${H - padB}" text-anchor="end">0</text>` +
    rects.join("") +
    zero +
    `<text x="${padL}" y="${H - 6}" text-anchor="start">${e(fmtPlain(first.lo))}</text><text x="${W - padR}" y="${H - 6}" text-anchor="end">${e(fmtPlain(last.hi))}</text></svg>` +
    `<p class="foot">Net P&amp;L per trade${run.currency ? ` (${e(run.currency)})` : ""} · bin ${e(fmtPlain(width))} · <span class="pos">${wins} winner${wins === 1 ? "" : "s"}</span> · <span class="neg">${losses} loser${losses === 1 ? "" : "s"}</span>${run.trades.length - wins - losses ? ` · ${run.trades.length - wins - losses} breakeven` : ""}</p>`
  );
}

function heatmapTable(run: RunView): string {
  const { years, maxAbsMonth, maxAbsYear } = monthlyGrid(run.monthly);
  if (years.length === 0) return `<p class="foot">No monthly returns stored.</p>`;
  const head = `<tr><th>Year</th>${MONTH_NAMES.map((m) => `<th class="r">${m}</th>`).join("")}<th class="r">Year</th></tr>`;
  const rows = years
    .map((y) => {
      const cells = y.months
        .map((r, i) => (r === null ? `<td title="no bars"></td>` : `<td style="background:${heatColor(r, maxAbsMonth)}" title="${e(`${MONTH_NAMES[i]} ${y.year}: ${(r * 100).toFixed(2)}%`)}">${e(cellPct(r))}</td>`))
        .join("");
      return `<tr><th>${y.year}</th>${cells}<td class="y" style="background:${heatColor(y.total, maxAbsYear)}">${e(cellPct(y.total))}</td></tr>`;
    })
    .join("");
  return `<div class="scroll"><table class="heat"><thead>${head}</thead><tbody>${rows}</tbody></table></div><p class="foot">Returns in %, by UTC month (month-end equity over the previous month-end). Year = the months compounded.</p>`;
}

function metricsTables(run: RunView, daily: boolean): string {
  return `<div class="metrics">${METRIC_GROUPS.map(
    (g) =>
      `<table><caption>${e(g.title)}</caption><tbody>${g.metrics
        .map((m) => `<tr><th scope="row">${e(m.label)}</th><td class="r">${e(formatMetric(run.metrics, m, run.currency, daily))}</td></tr>`)
        .join("")}</tbody></table>`,
  ).join("")}</div>`;
}

function tradeTable(run: RunView, daily: boolean): string {
  if (run.trades.length === 0) return `<p class="foot">The strategy closed no trade in this run.</p>`;
  const dec = priceDecimals(run);
  const rows: string[] = [];
  run.trades.forEach((t, i) => {
    const cls = t.pnl > 0 ? "pos" : t.pnl < 0 ? "neg" : "";
    rows.push(
      `<tr><td class="r dim">${i + 1}</td><td>${e(t.side)}</td><td class="r">${e(fmtPlain(t.qty))}</td><td>${e(fmtTime(t.entryTs, daily))}</td><td class="r">${e(fmtPrice(t.entryPrice, dec))}</td><td>${e(fmtTime(t.exitTs, daily))}</td><td class="r">${e(fmtPrice(t.exitPrice, dec))}</td><td class="r ${cls}">${e(fmtMoney(t.pnl, "", true))}</td><td class="r dim">${e(fmtMoney(t.commission))}</td><td class="r">${t.bars}</td></tr>`,
    );
  });
  return `<div class="scroll"><table><thead><tr><th class="r">#</th><th>Side</th><th class="r">Qty</th><th>Entry (UTC)</th><th class="r">Entry price</th><th>Exit (UTC)</th><th class="r">Exit price</th><th class="r">P&amp;L${run.currency ? ` ${e(run.currency)}` : ""}</th><th class="r">Commission</th><th class="r">Bars</th></tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

/** The whole report as a standalone HTML document. */
export function renderBacktestHtml(detail: BacktestRunDetail, opts: { generatedAt?: Date } = {}): string {
  const run = toRunView(detail);
  const daily = isDaily(run);
  const title = `Backtest ${run.strategyName ?? run.strategy} · ${run.symbol} ${run.timeframe}`;
  const hasReport = run.metrics !== null && (run.status === "done" || run.status === "cancelled");
  const generated = (opts.generatedAt ?? new Date()).toISOString().slice(0, 19).replace("T", " ");

  const parts: string[] = [];
  parts.push(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
      `<title>${e(title)}</title><style>${CSS}</style></head><body><main>`,
  );
  parts.push(`<h1>${e(title)}</h1><p class="num small dim">run ${e(run.id)} · status ${e(run.status)} · exported ${e(generated)} UTC · TradeForge</p>`);

  if (run.status === "failed") parts.push(`<div class="alert"><strong>This backtest failed.</strong>\n${e(run.error ?? "No error message was recorded.")}</div>`);
  if (run.status === "cancelled") parts.push(`<div class="note">Cancelled before the end of the data: every figure covers only the ${run.bars.toLocaleString("en-US")} bars run before the cancel.</div>`);
  if (run.status === "running") parts.push(`<div class="note">This run was still in progress when exported; it has no results yet.</div>`);

  parts.push(`<section><h2>Configuration</h2><dl class="grid">${configRows(run).map((r) => `<div><dt>${e(r.label)}</dt><dd class="num">${e(r.value)}</dd></div>`).join("")}</dl></section>`);

  if (hasReport) {
    parts.push(
      `<section><h2>Headline</h2><dl class="grid head">${HEADLINE_KEYS.map((k) => {
        const v = metricValue(run.metrics, k);
        const cls = (k === "totalReturn" || k === "annualizedReturn") && v !== null && v !== 0 ? (v > 0 ? "pos" : "neg") : "";
        return `<div><dt>${e(metricDef(k).label)}</dt><dd class="num ${cls}">${e(formatMetric(run.metrics, metricDef(k), run.currency, daily))}</dd></div>`;
      }).join("")}</dl></section>`,
    );
    parts.push(`<section><h2>Metrics</h2>${metricsTables(run, daily)}</section>`);
    const initial = metricValue(run.metrics, "initialCash");
    parts.push(
      `<section><h2>Equity</h2><div class="chart">${svgTimeChart(
        run.equity.map((p) => ({ t: p.t, v: p.equity })),
        { label: "Equity curve", stroke: "#3fd08a", fill: "rgba(63,208,138,0.12)", yFmt: (v) => fmtNum(v, Math.abs(v) >= 1000 ? 0 : 2), daily, ...(initial !== null ? { baseline: initial } : {}), areaTo: "bottom" },
      )}</div><p class="foot">Account equity${run.currency ? ` (${e(run.currency)})` : ""}; dashed line: starting cash. Points are groups of bars (equity at each group's last bar).</p></section>`,
    );
    parts.push(
      `<section><h2>Drawdown</h2><div class="chart">${svgTimeChart(
        run.equity.map((p) => ({ t: p.t, v: -p.dd * 100 })),
        { label: "Drawdown below the running peak, %", stroke: "#ef5b5b", fill: "rgba(239,91,91,0.25)", yFmt: (v) => `${v.toFixed(1)}%`, daily, areaTo: "zero", height: 180 },
      )}</div><p class="foot">Drawdown below the running peak, % (deepest in each group of bars). Max drawdown: ${e(fmtPct(metricValue(run.metrics, "maxDrawdownPct")))}.</p></section>`,
    );
    parts.push(`<section><h2>Monthly returns</h2>${heatmapTable(run)}</section>`);
    parts.push(`<section><h2>Trade P&amp;L distribution</h2><div class="chart">${svgHistogram(run)}</div></section>`);
    parts.push(`<section><h2>Trades (${run.trades.length.toLocaleString("en-US")})</h2>${tradeTable(run, daily)}</section>`);
  }
  parts.push(`</main></body></html>`);
  return parts.join("\n");
}
