/**
 * Relays the engine's event stream to one browser. The browser's
 * Last-Event-ID is passed to the engine, which replays exactly the events after
 * it that it still buffers. If the engine goes away, the relay tells the
 * browser ("status" offline), keeps the browser connection open, and
 * reconnects to the engine from the last id it forwarded, so a restart loses
 * and repeats nothing that the engine still holds.
 */
import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface RelayOptions {
  engineUrl: string;
  secret: string;
  lastEventId?: string | null;
  signal: AbortSignal;
  /** Only these event types (a trailing dot matches a prefix, e.g. "replay."). */
  types?: string[];
  /** On a first connection (no Last-Event-ID), how many buffered events to replay. */
  initialBacklog?: number;
  /** Wait between reconnection attempts to the engine. */
  retryMs?: number;
  /** Comment sent to the browser when nothing else was, to keep proxies from closing it. */
  keepAliveMs?: number;
  onStatus?: (status: "online" | "offline") => void;
}

const encoder = new TextEncoder();

function frame(msg: { id?: string; event?: string; data: string }): Uint8Array {
  let out = "";
  if (msg.id) out += `id: ${msg.id}\n`;
  if (msg.event) out += `event: ${msg.event}\n`;
  for (const line of msg.data.split("\n")) out += `data: ${line}\n`;
  return encoder.encode(out + "\n");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

export function createRelayStream(opts: RelayOptions): ReadableStream<Uint8Array> {
  const retryMs = opts.retryMs ?? 1000;
  let lastId = opts.lastEventId && /^\d+$/.test(opts.lastEventId) ? opts.lastEventId : undefined;

  // Stops when the browser goes away (request aborted) or the stream is cancelled.
  const stop = new AbortController();
  if (opts.signal.aborted) stop.abort();
  else opts.signal.addEventListener("abort", () => stop.abort(), { once: true });
  const signal = stop.signal;

  return new ReadableStream<Uint8Array>({
    cancel() {
      stop.abort();
    },
    start(controller) {
      // The pump runs on its own; start() must return so reads can begin.
      void (async () => {
      let closed = false;
      const enqueue = (chunk: Uint8Array) => {
        if (closed) return;
        try {
          controller.enqueue(chunk);
        } catch {
          closed = true;
        }
      };
      const status = (engine: "online" | "offline", detail?: string) => {
        opts.onStatus?.(engine);
        enqueue(frame({ event: "status", data: JSON.stringify({ engine, detail: detail ?? null, at: new Date().toISOString() }) }));
      };
      const keepAlive = setInterval(() => enqueue(encoder.encode(": keep-alive\n\n")), opts.keepAliveMs ?? 15_000);
      enqueue(encoder.encode("retry: 1000\n\n"));

      let announcedOffline = false;
      while (!signal.aborted) {
        let connected = false;
        try {
          const q = new URLSearchParams();
          if (lastId === undefined && opts.initialBacklog !== undefined) q.set("tail", String(opts.initialBacklog));
          if (opts.types?.length) q.set("types", opts.types.join(","));
          const query = q.size > 0 ? `?${q}` : "";
          const res = await fetch(`${opts.engineUrl}/events${query}`, {
            headers: { authorization: `Bearer ${opts.secret}`, accept: "text/event-stream", ...(lastId ? { "last-event-id": lastId } : {}) },
            signal,
          });
          if (!res.ok || !res.body) throw new Error(res.status === 401 ? "engine refused the shared secret" : `engine answered HTTP ${res.status}`);
          connected = true;
          announcedOffline = false;
          status("online");
          const parser = createParser({
            onEvent(msg: EventSourceMessage) {
              if (msg.id) lastId = msg.id;
              enqueue(frame({ id: msg.id, event: msg.event, data: msg.data }));
            },
          });
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            parser.feed(value);
          }
          throw new Error("engine closed the stream");
        } catch (err) {
          if (signal.aborted) break;
          if (connected || !announcedOffline) {
            announcedOffline = true;
            status("offline", (err as Error).message);
          }
        }
        await sleep(retryMs, signal);
      }
      clearInterval(keepAlive);
      closed = true;
      try {
        controller.close();
      } catch {
        // already closed by the consumer
      }
      })();
    },
  });
}
