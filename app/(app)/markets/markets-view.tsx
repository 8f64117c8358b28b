"use client";
import { useEffect, useMemo, useRef, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { TIMEFRAMES, type Timeframe } from "@/engine/data/types";
import { fmtInt, fmtTs } from "./format";
import { ImportPanel } from "./import-panel";
import { InstrumentForm } from "./instrument-form";
import { PriceChart } from "./price-chart";
import { QuarantineBrowser } from "./quarantine-browser";
import { ReplayPanel } from "./replay-panel";

export function MarketsView() {
  const utils = trpc.useUtils();
  const instruments = trpc.market.instruments.useQuery();
  const [symbol, setSymbol] = useState<string | null>(null);
  const [timeframe, setTimeframe] = useState<Timeframe>("1d");
  const [editing, setEditing] = useState<string | "new" | null>(null);

  const withData = useMemo(() => (instruments.data ?? []).filter((i) => i.series.some((s) => s.kind === "bars" && s.count > 0)), [instruments.data]);
  useEffect(() => {
    if (symbol || withData.length === 0) return;
    const first = withData[0]!;
    setSymbol(first.symbol);
    const finest = first.series.filter((s) => s.kind === "bars" && s.count > 0).map((s) => s.timeframe as Timeframe).sort((a, b) => TIMEFRAMES.indexOf(a) - TIMEFRAMES.indexOf(b))[0];
    if (finest) setTimeframe(finest);
  }, [withData, symbol]);

  const selected = instruments.data?.find((i) => i.symbol === symbol);
  const storedFrames = new Set(selected?.series.filter((s) => s.kind === "bars" && s.count > 0).map((s) => s.timeframe));
  const finestStored = TIMEFRAMES.find((tf) => storedFrames.has(tf));
  const available = finestStored ? TIMEFRAMES.filter((tf) => TIMEFRAMES.indexOf(tf) >= TIMEFRAMES.indexOf(finestStored)) : [];
  const bars = trpc.market.bars.useQuery({ symbol: symbol ?? "", timeframe, limit: timeframe === "1d" ? 20_000 : 5000 }, { enabled: !!symbol && available.includes(timeframe) });
  // Older history, loaded page by page as the user scrolls left.
  const [older, setOlder] = useState<{ key: string; t: number[]; o: number[]; h: number[]; l: number[]; c: number[]; v: number[]; exhausted: boolean } | null>(null);
  const loadingOlder = useRef(false);
  const key = `${symbol}:${timeframe}:${bars.dataUpdatedAt}`;
  const shown = useMemo(() => {
    if (!bars.data) return null;
    const o = older && older.key === key ? older : null;
    if (!o) return bars.data;
    return { ...bars.data, t: [...o.t, ...bars.data.t], o: [...o.o, ...bars.data.o], h: [...o.h, ...bars.data.h], l: [...o.l, ...bars.data.l], c: [...o.c, ...bars.data.c], v: [...o.v, ...bars.data.v] };
  }, [bars.data, older, key]);
  const loadOlder = async () => {
    if (!shown || !symbol || loadingOlder.current || shown.t.length >= shown.total || (older?.key === key && older.exhausted)) return;
    loadingOlder.current = true;
    try {
      const page = await utils.market.bars.fetch({ symbol, timeframe, to: shown.t[0]! - 1, limit: 5000 });
      setOlder((prev) => {
        const base = prev && prev.key === key ? prev : { key, t: [], o: [], h: [], l: [], c: [], v: [], exhausted: false };
        return { key, t: [...page.t, ...base.t], o: [...page.o, ...base.o], h: [...page.h, ...base.h], l: [...page.l, ...base.l], c: [...page.c, ...base.c], v: [...page.v, ...base.v], exhausted: page.t.length === 0 };
      });
    } finally {
      loadingOlder.current = false;
    }
  };

  return (
    <div className="space-y-4">
      <h1 className="text-lg font-semibold">Markets</h1>

      <section className="border border-line bg-panel">
        <div className="flex flex-wrap items-center justify-between gap-2 border-b border-line px-4 py-3">
          <h2 className="text-sm font-semibold">Chart</h2>
          <div className="flex flex-wrap items-center gap-2">
            <select aria-label="Symbol" className="rounded-sm border border-line bg-bg px-2 py-1 text-sm" value={symbol ?? ""} onChange={(e) => setSymbol(e.target.value || null)}>
              {withData.length === 0 ? <option value="">no stored series</option> : null}
              {withData.map((i) => (
                <option key={i.symbol} value={i.symbol}>{i.symbol}</option>
              ))}
            </select>
            <div role="group" aria-label="Timeframe" className="flex">
              {TIMEFRAMES.map((tf) => (
                <button
                  key={tf}
                  type="button"
                  disabled={!available.includes(tf)}
                  aria-pressed={tf === timeframe}
                  onClick={() => setTimeframe(tf)}
                  className={`num border border-line px-2 py-1 text-xs -ml-px first:ml-0 disabled:opacity-30 ${tf === timeframe ? "bg-accent text-bg" : "text-dim hover:text-fg"}`}
                >
                  {tf}
                </button>
              ))}
            </div>
          </div>
        </div>
        <div className="p-2 sm:p-4">
          {instruments.isLoading || bars.isLoading ? <p className="p-4 text-sm text-dim">Loading…</p> : null}
          {bars.error ? <p className="p-4 text-sm text-bad">{bars.error.message}</p> : null}
          {!symbol && !instruments.isLoading ? <p className="p-4 text-sm text-dim">No bars stored yet. Import a file below.</p> : null}
          {shown && symbol ? (
            <>
              <PriceChart symbol={symbol} timeframe={timeframe} daily={timeframe === "1d"} bars={shown} onReachStart={() => void loadOlder()} />
              <p className="num mt-2 text-[11px] text-dim">
                {fmtInt(shown.t.length)} of {fmtInt(shown.total)} bars loaded{shown.t.length < shown.total ? " (scroll left for older)" : ""}
                {shown.resampled ? ` · resampled from stored ${shown.source} bars by trading session` : ""}
              </p>
            </>
          ) : null}
        </div>
      </section>

      <ReplayPanel symbol={symbol} timeframe={timeframe} />

      <section className="border border-line bg-panel">
        <div className="flex items-center justify-between border-b border-line px-4 py-3">
          <h2 className="text-sm font-semibold">Instruments and coverage</h2>
          <button type="button" className="rounded-sm border border-line px-2 py-1 text-xs text-dim hover:text-fg" onClick={() => setEditing("new")}>
            Add instrument
          </button>
        </div>
        {editing ? (
          <InstrumentForm
            initial={editing === "new" ? undefined : instruments.data?.find((i) => i.symbol === editing)}
            onDone={() => {
              setEditing(null);
              void instruments.refetch();
            }}
          />
        ) : null}
        <div className="overflow-x-auto">
          <table className="w-full text-sm">
            <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
              <tr>
                <th className="px-3 py-2 font-normal">Symbol</th>
                <th className="px-3 py-2 font-normal">Series</th>
                <th className="px-3 py-2 font-normal">First</th>
                <th className="px-3 py-2 font-normal">Last</th>
                <th className="px-3 py-2 text-right font-normal">Bars</th>
                <th className="px-3 py-2 text-right font-normal">Gaps</th>
                <th className="px-3 py-2 text-right font-normal">Quarantined</th>
                <th className="px-3 py-2" />
              </tr>
            </thead>
            <tbody>
              {instruments.data?.map((i) => {
                const series = i.series.length > 0 ? i.series : [null];
                return series.map((s, k) => (
                  <tr key={`${i.symbol}-${s?.timeframe ?? "none"}`} className={k === 0 ? "border-t border-line" : ""} data-testid={`coverage-${i.symbol}${s ? "-" + s.timeframe : ""}`}>
                    <td className="px-3 py-1.5 align-top">
                      {k === 0 ? (
                        <span title={i.name}>
                          <span className="num text-fg">{i.symbol}</span>
                          <span className="hidden whitespace-nowrap text-[11px] text-dim sm:block">{i.kind} · tick {i.tickSize} · ×{i.pointValue} {i.currency} · {i.calendar}</span>
                        </span>
                      ) : null}
                    </td>
                    <td className="num px-3 py-1.5 text-xs">{s ? s.timeframe : <span className="text-dim">none</span>}</td>
                    <td className="num px-3 py-1.5 text-xs text-dim">{s ? fmtTs(s.first, s.timeframe === "1d") : ""}</td>
                    <td className="num px-3 py-1.5 text-xs text-dim">{s ? fmtTs(s.last, s.timeframe === "1d") : ""}</td>
                    <td className="num px-3 py-1.5 text-right text-xs">{s ? fmtInt(s.count) : ""}</td>
                    <td className="num px-3 py-1.5 text-right text-xs text-dim" title={s?.gaps ? `${s.gaps.missingBars} missing bars (last import)` : ""}>{s?.gaps ? fmtInt(s.gaps.count) : ""}</td>
                    <td className="num px-3 py-1.5 text-right text-xs">{k === 0 ? fmtInt(i.quarantined) : ""}</td>
                    <td className="px-3 py-1.5 text-right">
                      {k === 0 ? (
                        <button type="button" className="text-xs text-dim hover:text-fg" onClick={() => setEditing(i.symbol)}>Edit</button>
                      ) : null}
                    </td>
                  </tr>
                ));
              })}
            </tbody>
          </table>
        </div>
        <p className="px-4 py-2 text-[11px] text-dim">Gaps are counted against each instrument&apos;s trading calendar (weekends and daily breaks excluded; exchange holidays are not modelled yet and show as gaps).</p>
      </section>

      <ImportPanel symbols={(instruments.data ?? []).map((i) => i.symbol)} onImported={() => void utils.market.invalidate()} />
      <QuarantineBrowser />
    </div>
  );
}
