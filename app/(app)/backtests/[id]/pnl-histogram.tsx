import { fmtInt } from "@/app/(app)/markets/format";
import { fmtMoney, fmtPlain, pnlHistogram, type TradeRow } from "../report-model";
import { THEME } from "./chart-theme";

/** Distribution of trade results (net P&L): equal bins with zero on an edge; winners green, losers red. */
export function PnlHistogram({ trades, currency }: { trades: TradeRow[]; currency: string }) {
  const { bins, width } = pnlHistogram(trades.map((t) => t.pnl));
  if (bins.length === 0) return <p className="p-4 text-sm text-dim">No closed trades, so no distribution.</p>;
  const maxCount = Math.max(1, ...bins.map((b) => b.wins + b.losses + b.even));
  const first = bins[0]!;
  const last = bins[bins.length - 1]!;
  const zeroAt = first.lo < 0 && last.hi > 0 ? (-first.lo / (last.hi - first.lo)) * 100 : null;
  const wins = bins.reduce((s, b) => s + b.wins, 0);
  const losses = bins.reduce((s, b) => s + b.losses, 0);
  const even = bins.reduce((s, b) => s + b.even, 0);
  return (
    <div className="min-w-0 p-3" data-testid="pnl-histogram">
      <div className="num mb-1 text-[11px] text-dim">trades per bin · top of scale {fmtInt(maxCount)}</div>
      <div className="relative border-b border-l border-line">
        <svg viewBox={`0 0 ${bins.length} ${maxCount}`} preserveAspectRatio="none" className="block h-48 w-full" role="img" aria-label={`Histogram of ${trades.length} trade results`}>
          {bins.map((b, k) => {
            const segs = [
              { n: b.losses, color: THEME.down, what: "losing" },
              { n: b.even, color: THEME.text, what: "breakeven" },
              { n: b.wins, color: THEME.up, what: "winning" },
            ];
            let y = maxCount;
            return (
              <g key={k}>
                {segs.map((s) => {
                  if (s.n === 0) return null;
                  y -= s.n;
                  return (
                    <rect key={s.what} x={k + 0.08} width={0.84} y={y} height={s.n} fill={s.color} fillOpacity={0.85}>
                      <title>{`${fmtMoney(b.lo, currency)} to ${fmtMoney(b.hi, currency)}: ${s.n} ${s.what} trade${s.n === 1 ? "" : "s"}`}</title>
                    </rect>
                  );
                })}
              </g>
            );
          })}
        </svg>
        {zeroAt !== null ? <div aria-hidden className="absolute inset-y-0 border-l border-dashed border-dim/60" style={{ left: `${zeroAt}%` }} /> : null}
      </div>
      <div className="num relative mt-1 h-4 text-[11px] text-dim">
        <span className="absolute left-0">{fmtPlain(first.lo)}</span>
        {zeroAt !== null && zeroAt > 12 && zeroAt < 88 ? (
          <span className="absolute -translate-x-1/2" style={{ left: `${zeroAt}%` }}>
            0
          </span>
        ) : null}
        <span className="absolute right-0">{fmtPlain(last.hi)}</span>
      </div>
      <p className="num mt-1 text-[11px] text-dim">
        net P&amp;L per trade{currency ? ` (${currency})` : ""} · bin {fmtPlain(width)} · <span className="text-accent">{fmtInt(wins)} winner{wins === 1 ? "" : "s"}</span> · <span className="text-bad">{fmtInt(losses)} loser{losses === 1 ? "" : "s"}</span>
        {even ? ` · ${fmtInt(even)} breakeven` : ""}
      </p>
    </div>
  );
}
