"use client";
import { useEffect, useState } from "react";
import type { StreamState } from "@/app/(app)/backtests/use-backtest-progress";
import { type TuneEvent, applyTuneEvent, parseTuneFrame } from "./model";

/**
 * The latest "tune.progress" event per search, from the engine's stream
 * (/api/stream?types=tune.progress). The stream replays recent events on
 * connect, so a search that started (or ended) just before the page
 * subscribed is still seen. With enabled = false no connection is opened.
 */
export function useTuneProgress(enabled = true): { latest: ReadonlyMap<string, TuneEvent>; stream: StreamState } {
  const [latest, setLatest] = useState<ReadonlyMap<string, TuneEvent>>(() => new Map());
  const [stream, setStream] = useState<StreamState>("connecting");

  useEffect(() => {
    if (!enabled) return;
    const es = new EventSource("/api/stream?types=tune.progress");
    es.addEventListener("tune.progress", (ev) => {
      const e = parseTuneFrame((ev as MessageEvent<string>).data);
      if (!e) return;
      setStream("online");
      setLatest((prev) => applyTuneEvent(prev, e));
    });
    // the relay sends a "status" frame (online / offline) on every connection to the engine
    es.addEventListener("status", (ev) => {
      try {
        const msg = JSON.parse((ev as MessageEvent<string>).data) as { engine: "online" | "offline" };
        setStream(msg.engine);
      } catch {
        // ignore a malformed status frame
      }
    });
    es.onerror = () => setStream("offline");
    return () => es.close();
  }, [enabled]);

  return { latest, stream };
}
