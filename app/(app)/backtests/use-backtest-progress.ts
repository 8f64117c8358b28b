"use client";
import { useEffect, useState } from "react";
import type { BacktestProgressData } from "@/engine/events";

export type StreamState = "connecting" | "online" | "offline";

/**
 * Latest "backtest.progress" event per run, from the engine's stream
 * (/api/stream?types=backtest.progress). The stream replays recent events on
 * connect, so a run that started (or ended) just before the page subscribed
 * is still seen. With enabled = false no connection is opened.
 */
export function useBacktestProgress(enabled = true): { progress: ReadonlyMap<string, BacktestProgressData>; stream: StreamState } {
  const [progress, setProgress] = useState<ReadonlyMap<string, BacktestProgressData>>(() => new Map());
  const [stream, setStream] = useState<StreamState>("connecting");

  useEffect(() => {
    if (!enabled) return;
    const es = new EventSource("/api/stream?types=backtest.progress");
    es.addEventListener("backtest.progress", (ev) => {
      let data: BacktestProgressData;
      try {
        data = (JSON.parse((ev as MessageEvent<string>).data) as { data: BacktestProgressData }).data;
      } catch {
        return;
      }
      setStream("online");
      setProgress((prev) => {
        const before = prev.get(data.runId);
        // a final state is never replaced by a late "running" event
        if (before && before.status !== "running" && data.status === "running") return prev;
        const next = new Map(prev);
        next.set(data.runId, data);
        return next;
      });
    });
    es.addEventListener("status", (ev) => {
      try {
        const msg = JSON.parse((ev as MessageEvent<string>).data) as { engine: "online" | "offline" };
        setStream(msg.engine);
      } catch {
        // ignore a malformed status frame
      }
    });
    // the relay sends a "status" frame (online / offline) on every connection to the engine
    es.onerror = () => setStream("offline");
    return () => es.close();
  }, [enabled]);

  return { progress, stream };
}
