"use client";
import { useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { fmtInt } from "./format";
import { ReportView } from "./import-panel";

/** Import history and the rows each import quarantined, with CSV export. */
export function QuarantineBrowser() {
  const imports = trpc.market.imports.useQuery({ limit: 50 });
  const [importId, setImportId] = useState<string | null>(null);
  const [pages, setPages] = useState<number[]>([0]);
  const afterId = pages[pages.length - 1] ?? 0;
  const rows = trpc.market.quarantine.useQuery({ importId: importId ?? undefined, afterId, limit: 50 }, { enabled: importId !== null });

  return (
    <section className="border border-line bg-panel">
      <h2 className="border-b border-line px-4 py-3 text-sm font-semibold">Import history and quarantine</h2>
      <div className="overflow-x-auto">
        <table className="w-full text-sm">
          <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
            <tr>
              <th className="px-3 py-2 font-normal">When (UTC)</th>
              <th className="px-3 py-2 font-normal">Series</th>
              <th className="px-3 py-2 font-normal">File</th>
              <th className="px-3 py-2 text-right font-normal">Read</th>
              <th className="px-3 py-2 text-right font-normal">Stored</th>
              <th className="px-3 py-2 text-right font-normal">Quarantined</th>
              <th className="px-3 py-2 text-right font-normal">Flagged</th>
            </tr>
          </thead>
          <tbody>
            {imports.data?.map((r) => (
              <tr
                key={r.id}
                className={`cursor-pointer border-t border-line hover:bg-panel-2 ${r.id === importId ? "bg-panel-2" : ""}`}
                onClick={() => {
                  setImportId(r.id);
                  setPages([0]);
                }}
              >
                <td className="num px-3 py-1.5 text-xs text-dim">{r.startedAt.toISOString().slice(0, 16).replace("T", " ")}</td>
                <td className="num px-3 py-1.5 text-xs">{r.symbol} {r.timeframe}</td>
                <td className="max-w-48 truncate px-3 py-1.5 text-xs" title={r.fileName}>{r.fileName}</td>
                <td className="num px-3 py-1.5 text-right text-xs">{fmtInt(r.rowsRead)}</td>
                <td className="num px-3 py-1.5 text-right text-xs">{fmtInt(r.stored)}</td>
                <td className={`num px-3 py-1.5 text-right text-xs ${r.quarantined ? "text-warn" : ""}`}>{fmtInt(r.quarantined)}</td>
                <td className="num px-3 py-1.5 text-right text-xs text-dim">{fmtInt(r.flagged)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {imports.data?.length === 0 ? <p className="px-4 py-3 text-sm text-dim">No imports yet.</p> : null}
      </div>
      {importId && imports.data?.find((r) => r.id === importId) ? (
        <div className="border-t border-line pt-4">
          {(() => {
            const r = imports.data.find((x) => x.id === importId)!;
            const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
            return (
              <ReportView
                report={{
                  importId: r.id,
                  symbol: r.symbol,
                  timeframe: r.timeframe,
                  fileName: r.fileName,
                  rowsRead: r.rowsRead,
                  stored: r.stored,
                  inserted: r.inserted,
                  unchanged: r.unchanged,
                  quarantined: r.quarantined,
                  flagged: r.flagged,
                  reasons: r.reasons,
                  flags: r.flags,
                  first: iso(r.first),
                  last: iso(r.last),
                  gaps: { count: r.gaps.count ?? 0, missingBars: r.gaps.missingBars ?? 0, first: (r.gaps.first ?? []).slice(0, 20).map((g) => ({ from: iso(g.from), to: iso(g.to), missingBars: g.missingBars })) },
                  seriesBars: 0,
                }}
              />
            );
          })()}
        </div>
      ) : null}
      {importId ? (
        <div className="border-t border-line">
          <div className="flex flex-wrap items-center justify-between gap-2 px-4 py-2 text-xs">
            <span className="text-dim">Quarantined rows of the selected import</span>
            <a className="rounded-sm border border-line px-2 py-1 text-dim hover:text-fg" href={`/api/market/quarantine?importId=${encodeURIComponent(importId)}`}>Export CSV</a>
          </div>
          <div className="overflow-x-auto">
            <table className="w-full text-xs">
              <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
                <tr>
                  <th className="px-3 py-1 font-normal">Line</th>
                  <th className="px-3 py-1 font-normal">Reason</th>
                  <th className="px-3 py-1 font-normal">Detail</th>
                  <th className="px-3 py-1 font-normal">Raw row</th>
                </tr>
              </thead>
              <tbody>
                {rows.data?.rows.map((r) => (
                  <tr key={r.id} className="border-t border-line align-top">
                    <td className="num px-3 py-1">{r.line}</td>
                    <td className="num px-3 py-1 text-warn">{r.reason}</td>
                    <td className="px-3 py-1">{r.detail}</td>
                    <td className="num max-w-xs break-all px-3 py-1 text-dim">{r.raw}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {rows.data?.rows.length === 0 ? <p className="px-4 py-3 text-sm text-dim">This import quarantined nothing.</p> : null}
          </div>
          <div className="flex gap-2 px-4 py-2">
            <button type="button" disabled={pages.length <= 1} className="rounded-sm border border-line px-2 py-0.5 text-xs disabled:opacity-40" onClick={() => setPages((p) => p.slice(0, -1))}>Previous</button>
            <button type="button" disabled={!rows.data?.nextAfterId} className="rounded-sm border border-line px-2 py-0.5 text-xs disabled:opacity-40" onClick={() => rows.data?.nextAfterId && setPages((p) => [...p, rows.data!.nextAfterId!])}>Next</button>
          </div>
        </div>
      ) : null}
    </section>
  );
}
