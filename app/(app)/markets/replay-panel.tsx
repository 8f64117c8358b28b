"use client";
import { useEffect, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import type { ReplayBarData, ReplayStateData } from "@/engine/events";
import { fmtInt, fmtTs } from "./format";

const SPEEDS = [1, 10, 60, 600, 3600, "max"] as const;

/** Plays a stored series as a live feed through the engine; shows what arrives on the stream. */
export function ReplayPanel({ symbol, timeframe }: { symbol: string | null; timeframe: string }) {
  const [speed, setSpeed] = useState<(typeof SPEEDS)[number]>(60);
  const [ticks, setTicks] = useState(false);
  const [state, setState] = useState<ReplayStateData | null>(null);
  const [last, setLast] = useState<ReplayBarData | null>(null);
  const [received, setReceived] = useState(0);
  const [tickCount, setTickCount] = useState(0);
  const control = trpc.market.replay.useMutation({ onSuccess: (r) => r && setState(r as ReplayStateData) });

  useEffect(() => {
    const es = new EventSource("/api/stream?types=replay.");
    es.addEventListener("replay.state", (e) => setState((JSON.parse((e as MessageEvent<string>).data) as { data: ReplayStateData }).data));
    es.addEventListener("replay.bar", (e) => {
      setLast((JSON.parse((e as MessageEvent<string>).data) as { data: ReplayBarData }).data);
      setReceived((n) => n + 1);
    });
    es.addEventListener("replay.tick", () => setTickCount((n) => n + 1));
    return () => es.close();
  }, []);

  const daily = timeframe === "1d";
  const btn = "rounded-sm border border-line px-2 py-1 text-xs hover:text-fg disabled:opacity-40";
  return (
    <section className="border border-line bg-panel" data-testid="replay-panel">
      <h2 className="border-b border-line px-4 py-3 text-sm font-semibold">Replay as a live feed</h2>
      <div className="flex flex-wrap items-center gap-2 px-4 py-3 text-xs">
        <span className="num text-fg">{symbol ?? "—"} {timeframe}</span>
        <label className="flex items-center gap-1 text-dim">
          speed
          <select aria-label="Replay speed" className="rounded-sm border border-line bg-bg px-1 py-0.5" value={String(speed)} onChange={(e) => setSpeed(e.target.value === "max" ? "max" : (Number(e.target.value) as (typeof SPEEDS)[number]))}>
            {SPEEDS.map((s) => (
              <option key={s} value={String(s)}>{s === "max" ? "as fast as possible" : `${s}x`}</option>
            ))}
          </select>
        </label>
        <label className="flex items-center gap-1 text-dim">
          <input type="checkbox" checked={ticks} onChange={(e) => setTicks(e.target.checked)} /> ticks from bars
        </label>
        <button type="button" className={btn} disabled={!symbol || control.isPending} onClick={() => { setReceived(0); setTickCount(0); control.mutate({ type: "replay.start", symbol: symbol!, timeframe: timeframe as "1m", speed, ticks }); }}>Start</button>
        <button type="button" className={btn} disabled={state?.state !== "playing"} onClick={() => control.mutate({ type: "replay.pause" })}>Pause</button>
        <button type="button" className={btn} disabled={state?.state !== "paused"} onClick={() => control.mutate({ type: "replay.resume" })}>Resume</button>
        <button type="button" className={btn} disabled={!state || state.state === "stopped"} onClick={() => control.mutate({ type: "replay.stop" })}>Stop</button>
        <label className="flex items-center gap-1 text-dim">
          seek
          <input
            aria-label="Seek to date"
            type="date"
            className="rounded-sm border border-line bg-bg px-1 py-0.5"
            disabled={!state || state.state === "stopped"}
            onChange={(e) => e.target.value && control.mutate({ type: "replay.seek", ts: Date.parse(e.target.value + "T00:00:00Z") })}
          />
        </label>
      </div>
      {control.error ? <p className="px-4 pb-2 text-xs text-bad">{control.error.message}</p> : null}
      <div className="num grid grid-cols-2 gap-px border-t border-line bg-line text-xs sm:grid-cols-4">
        <div className="bg-panel px-4 py-2"><div className="text-dim">state</div><div data-testid="replay-state">{state ? `${state.state} · ${state.symbol} ${state.timeframe}` : "idle"}</div></div>
        <div className="bg-panel px-4 py-2"><div className="text-dim">position</div><div>{state ? `${fmtInt(state.position)} / ${fmtInt(state.total)}` : "—"}</div></div>
        <div className="bg-panel px-4 py-2"><div className="text-dim">received here</div><div data-testid="replay-received">{fmtInt(received)} bars{tickCount ? ` · ${fmtInt(tickCount)} ticks` : ""}</div></div>
        <div className="bg-panel px-4 py-2"><div className="text-dim">last bar</div><div>{last ? `${fmtTs(last.ts, daily)} C ${last.close}` : "—"}</div></div>
      </div>
    </section>
  );
}
