"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import type { Timeframe } from "@/engine/data/types";
import type { BacktestProgressData } from "@/engine/events";
import { fieldCls, labelCls } from "./fields";
import { runnableTimeframes, strategyId } from "./spec-edit";

type Phase =
  | { kind: "idle" }
  | { kind: "saving" }
  | { kind: "starting"; strategy: string }
  | { kind: "running"; runId: string; strategy: string; done: number; total: number; offline: boolean }
  | { kind: "opening"; runId: string }
  | { kind: "failed"; message: string; runId?: string }
  | { kind: "cancelled"; runId: string };

const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const errCode = (e: unknown) => (e as { data?: { code?: string } } | null)?.data?.code;

/**
 * Saves if needed, starts backtest.run with builder:<name>@<version>, follows
 * backtest.progress on the event stream (with a slow poll of backtest.get as a
 * safety net) and opens the report when the run is done.
 */
export function BacktestPanel({ ensureSaved, needsSave, blocked }: { ensureSaved: () => Promise<{ name: string; version: number } | null>; needsSave: boolean; blocked: string | null }) {
  const router = useRouter();
  const instruments = trpc.market.instruments.useQuery();
  const run = trpc.backtest.run.useMutation();
  const cancel = trpc.backtest.cancel.useMutation();
  const [symbol, setSymbol] = useState("");
  const [timeframe, setTimeframe] = useState<Timeframe | "">("");
  const [cash, setCash] = useState("100000");
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });

  const targets = useMemo(
    () => (instruments.data ?? []).map((i) => ({ symbol: i.symbol, frames: runnableTimeframes(i.series) })).filter((t) => t.frames.length > 0),
    [instruments.data],
  );
  const sym = targets.find((t) => t.symbol === symbol) ?? targets[0];
  const frames = sym?.frames ?? [];
  const tf = frames.find((f) => f.timeframe === timeframe) ?? frames.find((f) => f.from === f.timeframe) ?? frames[0];
  const cashNum = Number(cash);
  const cashOk = cash.trim() !== "" && Number.isFinite(cashNum) && cashNum > 0;

  const runId = phase.kind === "running" ? phase.runId : null;
  const settled = useRef<string | null>(null);
  const settle = (id: string, d: { status: string; error: string | null; done?: number; total?: number }) => {
    if (settled.current === id) return;
    if (d.status === "running") {
      setPhase((p) => (p.kind === "running" && p.runId === id ? { ...p, done: d.done ?? p.done, total: d.total ?? p.total, offline: false } : p));
      return;
    }
    settled.current = id;
    if (d.status === "done") {
      setPhase({ kind: "opening", runId: id });
      router.push(`/backtests/${encodeURIComponent(id)}`);
    } else if (d.status === "failed") setPhase({ kind: "failed", runId: id, message: `Backtest failed: ${d.error ?? "the engine gave no reason"}` });
    else setPhase({ kind: "cancelled", runId: id });
  };
  const settleRef = useRef(settle);
  settleRef.current = settle;

  useEffect(() => {
    if (!runId) return;
    const es = new EventSource("/api/stream?types=backtest.progress");
    es.addEventListener("backtest.progress", (ev) => {
      const msg = JSON.parse((ev as MessageEvent<string>).data) as { data: BacktestProgressData };
      if (msg.data.runId === runId) settleRef.current(runId, msg.data);
    });
    es.addEventListener("status", (ev) => {
      const msg = JSON.parse((ev as MessageEvent<string>).data) as { engine: "online" | "offline" };
      setPhase((p) => (p.kind === "running" && p.runId === runId ? { ...p, offline: msg.engine === "offline" } : p));
    });
    return () => es.close();
  }, [runId]);

  // Safety net if the stream misses the final event (e.g. a reconnect beyond the engine's buffer).
  const poll = trpc.backtest.get.useQuery({ id: runId ?? "" }, { enabled: !!runId, refetchInterval: 3000, staleTime: 0 });
  useEffect(() => {
    if (runId && poll.data && poll.data.id === runId && poll.data.status !== "running") settleRef.current(runId, { status: poll.data.status, error: poll.data.error });
  }, [runId, poll.data]);

  const busy = phase.kind === "saving" || phase.kind === "starting" || phase.kind === "running" || phase.kind === "opening";

  async function start() {
    if (!sym || !tf || !cashOk) return;
    settled.current = null;
    setPhase({ kind: "saving" });
    const saved = await ensureSaved();
    if (!saved) return setPhase({ kind: "failed", message: "Not started: the strategy could not be saved. Fix the problems marked above." });
    const strategy = strategyId(saved.name, saved.version);
    setPhase({ kind: "starting", strategy });
    try {
      const r = await run.mutateAsync({ symbol: sym.symbol, timeframe: tf.timeframe, strategy, cash: cashNum });
      setPhase({ kind: "running", runId: r.runId, strategy, done: 0, total: 0, offline: false });
    } catch (e) {
      setPhase({
        kind: "failed",
        message:
          errCode(e) === "SERVICE_UNAVAILABLE"
            ? `The engine is offline, so the backtest cannot start. ${saved.name} v${saved.version} is saved; run it again once the engine is back (its status is on the dashboard).`
            : `Backtest not started: ${errMessage(e)}`,
      });
    }
  }

  const pct = phase.kind === "running" && phase.total > 0 ? Math.min(100, Math.round((phase.done / phase.total) * 100)) : null;
  return (
    <section className="border border-line bg-panel" aria-labelledby="h-backtest" data-testid="backtest-panel">
      <h2 id="h-backtest" className="border-b border-line px-3 py-2 text-sm font-semibold">
        Backtest
      </h2>
      <div className="grid grid-cols-2 gap-3 p-3 sm:grid-cols-[minmax(0,10rem)_minmax(0,12rem)_minmax(0,10rem)_auto] sm:items-end">
        <label className={labelCls}>
          Symbol
          <select aria-label="Backtest symbol" className={`num ${fieldCls()}`} value={sym?.symbol ?? ""} onChange={(e) => setSymbol(e.target.value)} disabled={busy}>
            {targets.length === 0 ? <option value="">{instruments.isLoading ? "loading…" : "no stored series"}</option> : null}
            {targets.map((t) => (
              <option key={t.symbol} value={t.symbol}>
                {t.symbol}
              </option>
            ))}
          </select>
        </label>
        <label className={labelCls}>
          Timeframe
          <select aria-label="Backtest timeframe" className={`num ${fieldCls()}`} value={tf?.timeframe ?? ""} onChange={(e) => setTimeframe(e.target.value as Timeframe)} disabled={busy || frames.length === 0}>
            {frames.length === 0 ? <option value="">—</option> : null}
            {frames.map((f) => (
              <option key={f.timeframe} value={f.timeframe}>
                {f.from === f.timeframe ? f.timeframe : `${f.timeframe} (from ${f.from})`}
              </option>
            ))}
          </select>
        </label>
        <label className={`${labelCls} col-span-2 sm:col-span-1`}>
          Starting cash
          <input aria-label="Starting cash" inputMode="decimal" className={`num ${fieldCls(!cashOk)}`} value={cash} onChange={(e) => setCash(e.target.value)} disabled={busy} />
          {!cashOk ? <span className="mt-0.5 block text-[11px] text-bad">enter a positive amount</span> : null}
        </label>
        <button
          type="button"
          data-testid="backtest-run"
          onClick={() => void start()}
          disabled={busy || !sym || !tf || !cashOk || blocked !== null}
          title={blocked ?? undefined}
          className="col-span-2 min-h-9 rounded-sm bg-accent px-3 py-1.5 text-sm font-medium text-bg disabled:opacity-50 sm:col-span-1"
        >
          {needsSave ? "Save and backtest" : "Backtest"}
        </button>
      </div>
      {instruments.error ? <p className="px-3 pb-3 text-xs text-bad">Could not list the stored series: {instruments.error.message}</p> : null}
      {!instruments.isLoading && !instruments.error && targets.length === 0 ? (
        <p className="px-3 pb-3 text-xs text-dim">
          No stored bars yet. Import a series on <Link className="underline hover:text-fg" href="/markets">Markets</Link> first.
        </p>
      ) : null}
      {blocked ? <p className="px-3 pb-3 text-xs text-warn">{blocked}</p> : null}

      <div aria-live="polite" className="empty:hidden">
        {phase.kind === "saving" ? <p className="px-3 pb-3 text-xs text-dim">Saving…</p> : null}
        {phase.kind === "starting" ? <p className="num px-3 pb-3 text-xs text-dim">Starting {phase.strategy}…</p> : null}
        {phase.kind === "running" ? (
          <div className="space-y-2 px-3 pb-3" data-testid="backtest-progress">
            <div className="num flex flex-wrap items-center justify-between gap-2 text-xs text-dim">
              <span className="min-w-0 truncate">{phase.strategy}</span>
              <span>{pct === null ? "queued…" : `${pct}%`}</span>
            </div>
            <div className="h-2 border border-line bg-bg" role="progressbar" aria-label="Backtest progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct ?? undefined}>
              <div className="h-full bg-accent transition-[width]" style={{ width: `${pct ?? 0}%` }} />
            </div>
            <div className="flex flex-wrap items-center justify-between gap-2">
              {phase.offline ? <span className="text-xs text-warn">The engine went offline; waiting for it to come back.</span> : <span />}
              <button type="button" className="rounded-sm border border-line px-2 py-1 text-xs text-dim hover:border-bad hover:text-bad" onClick={() => cancel.mutate({ runId: phase.runId })} disabled={cancel.isPending}>
                Cancel run
              </button>
            </div>
            {cancel.error ? <p className="text-xs text-bad">{cancel.error.message}</p> : null}
          </div>
        ) : null}
        {phase.kind === "opening" ? <p className="px-3 pb-3 text-xs text-accent">Done. Opening the report…</p> : null}
        {phase.kind === "failed" ? (
          <div role="alert" data-testid="backtest-error" className="mx-3 mb-3 border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
            <p className="whitespace-pre-wrap break-words">{phase.message}</p>
            {phase.runId ? (
              <p className="num mt-1 text-[11px] text-dim">
                run {phase.runId} · <Link className="underline" href={`/backtests/${encodeURIComponent(phase.runId)}`}>details</Link>
              </p>
            ) : null}
          </div>
        ) : null}
        {phase.kind === "cancelled" ? <p className="px-3 pb-3 text-xs text-warn">Backtest cancelled.</p> : null}
      </div>
    </section>
  );
}
