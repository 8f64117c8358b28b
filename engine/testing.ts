/** Helpers for tests that talk to a real engine server over HTTP. */
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import pino from "pino";
import { EventBus, type HeartbeatData } from "./events";
import { createEngineServer } from "./server";

export const TEST_SECRET = "test-secret-0123456789abcdef0123456789";

export function heartbeat(n: number): HeartbeatData {
  return { pid: process.pid, startedAt: new Date(0).toISOString(), uptimeS: n, cpuPct: 1, cores: 2, rssBytes: 1e6, heapUsedBytes: 1e5, heapTotalBytes: 2e5, loopLagP99Ms: 0.1 };
}

export async function startTestEngine(opts: { bus?: EventBus; port?: number; extraCommands?: Parameters<typeof createEngineServer>[0]["extraCommands"] } = {}) {
  const bus = opts.bus ?? new EventBus(64, 1);
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: "info" }, sink);
  const engine = createEngineServer({ bus, secret: TEST_SECRET, logger, keepAliveMs: 60_000, extraCommands: opts.extraCommands });
  await new Promise<void>((resolve) => engine.server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const port = (engine.server.address() as AddressInfo).port;
  return {
    bus,
    port,
    url: `http://127.0.0.1:${port}`,
    logs: lines,
    async close() {
      engine.closeStreams();
      engine.server.closeAllConnections();
      await new Promise<void>((resolve) => engine.server.close(() => resolve()));
    },
  };
}

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** Reads SSE messages from a response body until `until` says stop (or the timeout passes). */
export async function readSse(body: ReadableStream<Uint8Array>, until: (msgs: SseMessage[]) => boolean, timeoutMs = 5000): Promise<SseMessage[]> {
  const reader = body.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>).getReader();
  const msgs: SseMessage[] = [];
  let buf = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(msgs)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms with ${msgs.length} messages: ${JSON.stringify(msgs.map((m) => m.event ?? "message"))}`);
      const next = await Promise.race([reader.read(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error("read timeout")), left))]);
      if (next.done) break;
      buf += next.value;
      let idx: number;
      while ((idx = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, idx);
        buf = buf.slice(idx + 2);
        const msg: SseMessage = { data: "" };
        const data: string[] = [];
        let hasField = false;
        for (const line of block.split("\n")) {
          if (line.startsWith(":") || line === "") continue;
          const [field, ...rest] = line.split(":");
          const value = rest.join(":").replace(/^ /, "");
          if (field === "id") msg.id = value;
          else if (field === "event") msg.event = value;
          else if (field === "data") data.push(value);
          else continue;
          hasField = true;
        }
        msg.data = data.join("\n");
        if (hasField && (msg.data !== "" || msg.event)) msgs.push(msg);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return msgs;
}
