"use client";
import { useRef, useState } from "react";
import { TIMEFRAMES } from "@/engine/data/types";
import type { ImportReportJson } from "@/server/market/report";
import { fmtInt } from "./format";

const FRAMES = [...TIMEFRAMES, "quotes", "trades"] as const;
const field = "w-full rounded-sm border border-line bg-bg px-2 py-1.5 text-sm outline-none focus:border-accent";

/** Upload a CSV with a real progress bar (bytes sent; the server imports as it receives). */
export function ImportPanel({ symbols, onImported }: { symbols: string[]; onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [symbol, setSymbol] = useState("");
  const [timeframe, setTimeframe] = useState<string>("1m");
  const [tz, setTz] = useState("UTC");
  const [progress, setProgress] = useState<number | null>(null);
  const [report, setReport] = useState<ImportReportJson | null>(null);
  const [error, setError] = useState<string | null>(null);
  const xhr = useRef<XMLHttpRequest | null>(null);

  function start() {
    setError(null);
    setReport(null);
    if (!file) return setError("Choose a CSV file (plain or .gz).");
    const sym = symbol || symbols[0];
    if (!sym) return setError("Choose a symbol.");
    const q = new URLSearchParams({ symbol: sym, timeframe, tz, fileName: file.name });
    const req = new XMLHttpRequest();
    xhr.current = req;
    req.open("POST", `/api/market/upload?${q}`);
    req.upload.onprogress = (e) => setProgress(e.lengthComputable ? e.loaded / e.total : null);
    req.onload = () => {
      xhr.current = null;
      setProgress(null);
      let body: unknown;
      try {
        body = JSON.parse(req.responseText);
      } catch {
        return setError(`Import failed (HTTP ${req.status}).`);
      }
      if (req.status !== 200) {
        const b = body as { error?: string; fieldErrors?: Record<string, string[]> };
        return setError([b.error, ...Object.values(b.fieldErrors ?? {}).flat()].filter(Boolean).join(" — "));
      }
      setReport(body as ImportReportJson);
      onImported();
    };
    req.onerror = () => {
      xhr.current = null;
      setProgress(null);
      setError("Upload failed: the connection was lost. Nothing was stored.");
    };
    req.onabort = () => {
      xhr.current = null;
      setProgress(null);
      setError("Upload cancelled. Nothing was stored.");
    };
    setProgress(0);
    req.send(file);
  }

  return (
    <section className="border border-line bg-panel">
      <h2 className="border-b border-line px-4 py-3 text-sm font-semibold">Import bars or ticks</h2>
      <div className="grid gap-3 p-4 sm:grid-cols-2 lg:grid-cols-5 lg:items-end">
        <label className="block text-xs text-dim lg:col-span-2">
          CSV file (plain or .gz)
          <input aria-label="CSV file" type="file" accept=".csv,.gz,.txt,text/csv" className={field} onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
        <label className="block text-xs text-dim">
          Symbol
          <select aria-label="Import symbol" className={field} value={symbol || symbols[0] || ""} onChange={(e) => setSymbol(e.target.value)}>
            {symbols.map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label className="block text-xs text-dim">
          Timeframe
          <select aria-label="Import timeframe" className={field} value={timeframe} onChange={(e) => setTimeframe(e.target.value)}>
            {FRAMES.map((f) => (
              <option key={f} value={f}>{f}</option>
            ))}
          </select>
        </label>
        <label className="block text-xs text-dim">
          Time zone of the file
          <input aria-label="Time zone" className={field} value={tz} onChange={(e) => setTz(e.target.value)} placeholder="America/New_York" />
        </label>
      </div>
      <div className="flex flex-wrap items-center gap-3 px-4 pb-4">
        <button type="button" onClick={start} disabled={progress !== null} className="rounded-sm bg-accent px-3 py-1.5 text-sm font-medium text-bg disabled:opacity-60">
          Import
        </button>
        {progress !== null ? (
          <>
            <div className="h-2 min-w-40 flex-1 border border-line bg-bg" role="progressbar" aria-label="Import progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(progress * 100)}>
              <div className="h-full bg-accent transition-[width]" style={{ width: `${Math.round(progress * 100)}%` }} />
            </div>
            <span className="num text-xs text-dim">{progress >= 1 ? "validating and storing…" : `${Math.round(progress * 100)}%`}</span>
            <button type="button" className="text-xs text-dim hover:text-bad" onClick={() => xhr.current?.abort()}>Cancel</button>
          </>
        ) : null}
      </div>
      {error ? <p role="alert" className="mx-4 mb-4 border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">{error}</p> : null}
      {report ? <ReportView report={report} /> : null}
      <p className="px-4 pb-3 text-[11px] text-dim">
        Headers such as timestamp, timestamp_utc, open_time, date/time are recognised; extra columns are ignored. Every row is stored or quarantined with its reason; an import is all or nothing.
        From a terminal: <span className="num">npm run --silent data:import -- FILE --symbol NQ --timeframe 1m --tz America/New_York --json</span>
      </p>
    </section>
  );
}

export function ReportView({ report }: { report: ImportReportJson }) {
  return (
    <div data-testid="import-report" className="mx-4 mb-4 border border-line">
      <dl className="grid grid-cols-2 gap-px bg-line text-sm sm:grid-cols-4 lg:grid-cols-7">
        {[
          ["Rows read", fmtInt(report.rowsRead)],
          ["Stored", fmtInt(report.stored)],
          ["New", fmtInt(report.inserted)],
          ["Already stored", fmtInt(report.unchanged)],
          ["Quarantined", fmtInt(report.quarantined)],
          ["Flagged", fmtInt(report.flagged)],
          ["Gaps", `${fmtInt(report.gaps.count)} (${fmtInt(report.gaps.missingBars)} bars)`],
        ].map(([k, v]) => (
          <div key={k} className="bg-panel px-3 py-2">
            <dt className="text-[11px] uppercase tracking-wide text-dim">{k}</dt>
            <dd className="num">{v}</dd>
          </div>
        ))}
      </dl>
      <div className="num space-y-1 px-3 py-2 text-xs text-dim">
        <div>{report.symbol} {report.timeframe} · {report.fileName} · {report.first ?? "—"} → {report.last ?? "—"}</div>
        {Object.keys(report.reasons).length ? <div className="text-warn">quarantined: {Object.entries(report.reasons).map(([k, v]) => `${k} ${v}`).join(", ")}</div> : null}
        {Object.keys(report.flags).length ? <div>flagged: {Object.entries(report.flags).map(([k, v]) => `${k} ${v}`).join(", ")}</div> : null}
        {report.gaps.first.length ? (
          <details>
            <summary className="cursor-pointer">first gaps ({fmtInt(report.gaps.count)} in all)</summary>
            <ul className="mt-1 space-y-0.5">
              {report.gaps.first.map((g) => (
                <li key={`${g.from}`}>{g.from?.slice(0, 16).replace("T", " ")} → {g.to?.slice(0, 16).replace("T", " ")} · {fmtInt(g.missingBars)} missing</li>
              ))}
            </ul>
          </details>
        ) : null}
      </div>
    </div>
  );
}
