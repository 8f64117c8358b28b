import type { ImportReport } from "@/engine/store/importer";

/** The import report as JSON for the CLI (--json), the upload API and the UI. */
export function reportToJson(r: ImportReport) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
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
    first: iso(r.firstTs),
    last: iso(r.lastTs),
    gaps: { count: r.gapCount, missingBars: r.missingBars, first: r.gaps.slice(0, 20).map((g) => ({ from: iso(g.from), to: iso(g.to), missingBars: g.missingBars })) },
    seriesBars: r.seriesCount,
  };
}
export type ImportReportJson = ReturnType<typeof reportToJson>;
