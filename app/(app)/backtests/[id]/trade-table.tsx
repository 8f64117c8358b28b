"use client";
import { useState } from "react";
import { fmtInt } from "@/app/(app)/markets/format";
import { fmtMoney, fmtPlain, fmtPrice, fmtTime, type TradeRow } from "../report-model";
import { signCls } from "../ui";

const PAGE = 50;

/** Every closed trade, in the stored (exit-time) order, 50 per page. */
export function TradeTable({ trades, daily, decimals, currency }: { trades: TradeRow[]; daily: boolean; decimals: number; currency: string }) {
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(trades.length / PAGE));
  const p = Math.min(page, pages - 1);
  if (trades.length === 0) return <p className="p-4 text-sm text-dim">The strategy closed no trade in this run.</p>;
  const rows = trades.slice(p * PAGE, p * PAGE + PAGE);
  const th = "px-3 py-2 font-normal whitespace-nowrap";
  const td = "px-3 py-1 whitespace-nowrap";
  const btn = "rounded-sm border border-line px-2 py-1 text-xs text-dim hover:text-fg disabled:opacity-30";
  return (
    <div className="min-w-0">
      <div className="overflow-x-auto">
        <table className="num w-full text-xs" data-testid="trade-table">
          <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
            <tr>
              <th className={`${th} text-right`}>#</th>
              <th className={th}>Side</th>
              <th className={`${th} text-right`}>Qty</th>
              <th className={th}>Entry (UTC)</th>
              <th className={`${th} text-right`}>Entry price</th>
              <th className={th}>Exit (UTC)</th>
              <th className={`${th} text-right`}>Exit price</th>
              <th className={`${th} text-right`}>P&amp;L{currency ? ` ${currency}` : ""}</th>
              <th className={`${th} text-right`}>Commission</th>
              <th className={`${th} text-right`}>Bars</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((t, i) => (
              <tr key={p * PAGE + i} className="border-t border-line">
                <td className={`${td} text-right text-dim`}>{fmtInt(p * PAGE + i + 1)}</td>
                <td className={`${td} ${t.side === "long" ? "text-info" : "text-warn"}`}>{t.side}</td>
                <td className={`${td} text-right`}>{fmtPlain(t.qty)}</td>
                <td className={`${td} text-dim`}>{fmtTime(t.entryTs, daily)}</td>
                <td className={`${td} text-right`}>{fmtPrice(t.entryPrice, decimals)}</td>
                <td className={`${td} text-dim`}>{fmtTime(t.exitTs, daily)}</td>
                <td className={`${td} text-right`}>{fmtPrice(t.exitPrice, decimals)}</td>
                <td className={`${td} text-right ${signCls(t.pnl)}`}>{fmtMoney(t.pnl, "", true)}</td>
                <td className={`${td} text-right text-dim`}>{fmtMoney(t.commission)}</td>
                <td className={`${td} text-right`}>{fmtInt(t.bars)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="num flex flex-wrap items-center justify-between gap-2 border-t border-line px-3 py-2 text-xs text-dim">
        <span>
          {fmtInt(p * PAGE + 1)}–{fmtInt(p * PAGE + rows.length)} of {fmtInt(trades.length)} trades
        </span>
        {pages > 1 ? (
          <div className="flex items-center gap-1" role="group" aria-label="Trade pages">
            <button type="button" className={btn} disabled={p === 0} onClick={() => setPage(0)} aria-label="First page">
              «
            </button>
            <button type="button" className={btn} disabled={p === 0} onClick={() => setPage(p - 1)}>
              Prev
            </button>
            <span className="px-1">
              page {p + 1} / {pages}
            </span>
            <button type="button" className={btn} disabled={p >= pages - 1} onClick={() => setPage(p + 1)}>
              Next
            </button>
            <button type="button" className={btn} disabled={p >= pages - 1} onClick={() => setPage(pages - 1)} aria-label="Last page">
              »
            </button>
          </div>
        ) : null}
      </div>
    </div>
  );
}
