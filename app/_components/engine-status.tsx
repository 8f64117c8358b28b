"use client";
import { useEffect, useRef, useState } from "react";
import type { HeartbeatData } from "@/engine/events";
import { Sparkline } from "./sparkline";

const HISTORY = 300; // five minutes of one-second heartbeats
const STALE_MS = 3500;

type Conn = "connecting" | "online" | "offline" | "signed-out";

interface Sample {
  id: number;
  at: number;
  data: HeartbeatData;
}

export function formatUptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  const hms = `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
  return d > 0 ? `${d}d ${hms}` : hms;
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

export function EngineStatus() {
  const [conn, setConn] = useState<Conn>("connecting");
  const [detail, setDetail] = useState<string | null>(null);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [gaps, setGaps] = useState(0);
  const lastBeat = useRef(0);

  useEffect(() => {
    const es = new EventSource("/api/stream?types=heartbeat");
    es.addEventListener("heartbeat", (ev) => {
      const msg = JSON.parse((ev as MessageEvent<string>).data) as { id: number; data: HeartbeatData };
      lastBeat.current = Date.now();
      setConn("online");
      setDetail(null);
      setSamples((prev) => {
        if (prev.length > 0 && prev[prev.length - 1]!.id >= msg.id) return prev; // never repeat
        const next = prev.length >= HISTORY ? prev.slice(prev.length - HISTORY + 1) : prev.slice();
        next.push({ id: msg.id, at: Date.now(), data: msg.data });
        return next;
      });
    });
    es.addEventListener("status", (ev) => {
      const msg = JSON.parse((ev as MessageEvent<string>).data) as { engine: "online" | "offline"; detail: string | null };
      if (msg.engine === "offline") {
        setConn("offline");
        setDetail(msg.detail);
      }
    });
    es.addEventListener("gap", () => setGaps((g) => g + 1));
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        // The server refused the stream (e.g. 401 after the session expired).
        fetch("/api/stream?types=heartbeat", { method: "GET", headers: { accept: "application/json" } })
          .then((r) => {
            if (r.status === 401) setConn("signed-out");
            r.body?.cancel().catch(() => undefined);
          })
          .catch(() => setConn("offline"));
      } else {
        setConn((c) => (c === "online" ? "offline" : c));
        setDetail("connection to the app lost; retrying");
      }
    };
    const watchdog = setInterval(() => {
      if (lastBeat.current > 0 && Date.now() - lastBeat.current > STALE_MS) {
        setConn((c) => (c === "online" ? "offline" : c));
      }
    }, 1000);
    return () => {
      clearInterval(watchdog);
      es.close();
    };
  }, []);

  const latest = samples[samples.length - 1]?.data;
  const online = conn === "online";
  const badge =
    conn === "online"
      ? { text: "engine online", cls: "border-accent/50 text-accent" }
      : conn === "connecting"
        ? { text: "connecting…", cls: "border-line text-dim" }
        : conn === "signed-out"
          ? { text: "signed out", cls: "border-warn/50 text-warn" }
          : { text: "engine offline", cls: "border-bad/50 text-bad" };

  return (
    <section aria-labelledby="engine-heading" className="border border-line bg-panel">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-line px-4 py-3">
        <h2 id="engine-heading" className="text-sm font-semibold">Engine</h2>
        <span data-testid="engine-status" data-state={conn} className={`num rounded-sm border px-2 py-0.5 text-xs ${badge.cls}`}>
          {badge.text}
        </span>
      </div>
      {conn === "offline" ? (
        <p className="border-b border-line bg-bad/5 px-4 py-2 text-xs text-bad">
          The engine is not answering{detail ? ` (${detail})` : ""}. The launcher restarts it; this panel reconnects by itself.
        </p>
      ) : null}
      {conn === "signed-out" ? <p className="border-b border-line px-4 py-2 text-xs text-warn">Your session has ended. <a className="underline" href="/login">Sign in again</a>.</p> : null}
      <dl className={`grid grid-cols-2 gap-px bg-line sm:grid-cols-3 lg:grid-cols-6 ${online ? "" : "opacity-60"}`}>
        <Figure label="Uptime" testId="engine-uptime" value={latest ? formatUptime(latest.uptimeS) : "—"} />
        <Figure label="CPU" testId="engine-cpu" value={latest ? `${latest.cpuPct.toFixed(1)} %` : "—"} hint={latest ? `of 1 core (${latest.cores} cores)` : undefined} />
        <Figure label="Resident memory" testId="engine-rss" value={latest ? mb(latest.rssBytes) : "—"} />
        <Figure label="Heap used" testId="engine-heap" value={latest ? mb(latest.heapUsedBytes) : "—"} hint={latest ? `of ${mb(latest.heapTotalBytes)}` : undefined} />
        <Figure label="Loop lag p99" testId="engine-lag" value={latest ? `${latest.loopLagP99Ms.toFixed(2)} ms` : "—"} />
        <Figure label="PID" testId="engine-pid" value={latest ? String(latest.pid) : "—"} />
      </dl>
      <div className="grid gap-px bg-line sm:grid-cols-2">
        <div className="bg-panel p-4">
          <div className="mb-2 flex justify-between text-xs text-dim">
            <span>CPU %, last {Math.round(samples.length / 60) || "<1"} min</span>
            <span className="num">{latest ? latest.cpuPct.toFixed(1) : ""}</span>
          </div>
          <Sparkline label="Engine CPU history" values={samples.map((s) => s.data.cpuPct)} />
        </div>
        <div className="bg-panel p-4">
          <div className="mb-2 flex justify-between text-xs text-dim">
            <span>Resident memory, MB</span>
            <span className="num">{latest ? (latest.rssBytes / 1048576).toFixed(1) : ""}</span>
          </div>
          <Sparkline label="Engine memory history" color="var(--color-info)" values={samples.map((s) => s.data.rssBytes / 1048576)} />
        </div>
      </div>
      <div className="num flex flex-wrap justify-between gap-2 border-t border-line px-4 py-2 text-[11px] text-dim">
        <span data-testid="engine-last-event">last event #{samples[samples.length - 1]?.id ?? "—"}</span>
        <span>{gaps > 0 ? `${gaps} gap${gaps === 1 ? "" : "s"} (engine restarted; events from the old run are gone)` : "no gaps"}</span>
      </div>
    </section>
  );
}

function Figure({ label, value, hint, testId }: { label: string; value: string; hint?: string; testId: string }) {
  return (
    <div className="bg-panel px-4 py-3">
      <dt className="text-[11px] uppercase tracking-wide text-dim">{label}</dt>
      <dd data-testid={testId} className="num mt-1 text-base text-fg">{value}</dd>
      {hint ? <dd className="num text-[11px] text-dim">{hint}</dd> : null}
    </div>
  );
}
