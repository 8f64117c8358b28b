"use client";
import { useEffect, useState } from "react";
import type { OptimizeProgressData } from "@/engine/events";
import type { StreamState } from "@/app/(app)/backtests/use-backtest-progress";

/**
 * Latest "optimize.progress" event per optimisation, from the engine's stream
 * (/api/stream?types=optimize.progress). The stream replays recent events on
 * connect, so a run that started (or ended) just before the page subscribed
 * is still seen. With enabled = false no connection is opened.
 */
export function useOptimizeProgress(enabled = true): { progress: ReadonlyMap<string, OptimizeProgressData>; stream: StreamState } {
  const [progress, setProgress] = useState<ReadonlyMap<string, OptimizeProgressData>>(() => new Map());
  const [stream, setStream] = useState<StreamState>("connecting");

  useEffect(() => {
    if (!enabled) return;
    const es = new EventSource("/api/stream?types=optimize.progress");
    es.addEventListener("optimize.progress", (ev) => {
      let data: OptimizeProgressData;
      try {
        data = (JSON.parse((ev as MessageEvent<string>).data) as { data: OptimizeProgressData }).data;
      } catch {
        return;
      }
      if (!data || typeof data.optimizationId !== "string") return;
      setStream("online");
      setProgress((prev) => {
        const before = prev.get(data.optimizationId);
        // a final state is never replaced by a late "running" event
        if (before && before.status !== "running" && data.status === "running") return prev;
        // the engine's "started" event carries total 0: keep the last known counts
        const next = new Map(prev);
        next.set(data.optimizationId, before && data.status === "running" && data.total === 0 ? { ...before, ...data, done: before.done, total: before.total } : data);
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
    es.onerror = () => setStream("offline");
    return () => es.close();
  }, [enabled]);

  return { progress, stream };
}
