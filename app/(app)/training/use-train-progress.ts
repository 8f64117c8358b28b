"use client";
import { useEffect, useState } from "react";
import type { StreamState } from "@/app/(app)/backtests/use-backtest-progress";
import { type LiveState, applyTrainEvent, emptyLive, parseTrainFrame } from "./model";

/**
 * "train.progress" events from the engine's stream
 * (/api/stream?types=train.progress): the latest event and the streamed curve
 * points per run (never mixed between runs). The stream replays recent
 * events on connect, so a run that started just before the page subscribed
 * is still seen. With enabled = false no connection is opened.
 */
export function useTrainProgress(enabled = true): LiveState & { stream: StreamState } {
  const [live, setLive] = useState<LiveState>(emptyLive);
  const [stream, setStream] = useState<StreamState>("connecting");

  useEffect(() => {
    if (!enabled) return;
    const es = new EventSource("/api/stream?types=train.progress");
    es.addEventListener("train.progress", (ev) => {
      const e = parseTrainFrame((ev as MessageEvent<string>).data);
      if (!e) return;
      setStream("online");
      setLive((prev) => applyTrainEvent(prev, e));
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

  return { ...live, stream };
}
