/**
 * The engine's HTTP surface on 127.0.0.1:
 *   GET  /health   public liveness: status, pid, uptime, version
 *   GET  /metrics  Prometheus text (prom-client)            [secret]
 *   GET  /events   Server-Sent Events, resumable by id      [secret]
 *                  (Last-Event-ID header or ?lastEventId=; ?tail=N limits a first connection's backlog;
 *                  ?types=a,b. filters by event type, a trailing dot matching a prefix)
 *   POST /command  small JSON command endpoint              [secret]
 * The secret travels as "Authorization: Bearer <ENGINE_SECRET>". A wrong or
 * missing secret gets 401 and a warning in the log (never the secret itself).
 */
import { timingSafeEqual, createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { z } from "zod";
import { type EventBus, formatSse, parseLastEventId } from "./events";

export const ENGINE_VERSION = "0.1.0";

export interface EngineServerOptions {
  bus: EventBus;
  secret: string;
  logger: Logger;
  /** Extra fields for /health and the status command. */
  status?: () => Record<string, unknown>;
  /** Comment line sent to idle SSE clients so proxies keep the connection open. */
  keepAliveMs?: number;
  /** Extra secret-protected routes, keyed "METHOD /path" (e.g. "POST /import"). */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>>;
  /** Commands beyond ping/status (e.g. the replay service). Returns undefined for unknown types. */
  extraCommands?: (body: unknown) => Promise<{ status: number; body: unknown } | undefined>;
}

const commandSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ping"), nonce: z.string().max(200).optional() }),
  z.object({ type: z.literal("status") }),
]);
export type EngineCommand = z.infer<typeof commandSchema>;

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

export function createEngineServer(opts: EngineServerOptions): { server: Server; registry: Registry; closeStreams(): void } {
  const { bus, logger } = opts;
  const secretDigest = digest(opts.secret);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "engine_" });
  const sseClients = new Gauge({ name: "engine_sse_clients", help: "Open SSE connections", registers: [registry] });
  const published = new Counter({ name: "engine_events_published_total", help: "Events published on the stream", labelNames: ["type"], registers: [registry] });
  const authFailures = new Counter({ name: "engine_auth_failures_total", help: "Requests refused for a missing or wrong secret", labelNames: ["path"], registers: [registry] });
  const commands = new Counter({ name: "engine_commands_total", help: "Commands received", labelNames: ["type", "result"], registers: [registry] });
  const lastId = new Gauge({ name: "engine_last_event_id", help: "Id of the newest event", registers: [registry] });
  bus.subscribe((e) => {
    published.inc({ type: e.type });
    lastId.set(e.id);
  });

  const openStreams = new Set<ServerResponse>();

  function authorised(req: IncomingMessage, path: string): boolean {
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
    const ok = token !== "" && timingSafeEqual(digest(token), secretDigest);
    if (!ok) {
      authFailures.inc({ path });
      logger.warn({ path, remote: req.socket.remoteAddress, reason: token === "" ? "missing secret" : "wrong secret" }, "engine request refused");
    }
    return ok;
  }

  function json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
    res.end(text);
  }

  function health() {
    return { status: "ok", version: ENGINE_VERSION, pid: process.pid, uptimeS: Math.round(process.uptime() * 10) / 10, lastEventId: bus.lastId ?? null, ...(opts.status?.() ?? {}) };
  }

  async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new Error(`body larger than ${limit} bytes`);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  function streamEvents(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const after = parseLastEventId((req.headers["last-event-id"] as string | undefined) ?? url.searchParams.get("lastEventId"));
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 1000\n\n");
    // Replay and subscribe in the same synchronous turn: no event can be
    // published in between, so nothing is lost and nothing is sent twice.
    const send = (chunk: string) => {
      if (!res.writableEnded) res.write(chunk);
    };
    // A first connection (no Last-Event-ID) may ask for only the newest `tail` events.
    const tail = parseLastEventId(url.searchParams.get("tail"));
    // ?types=heartbeat,replay. keeps only events whose type equals or starts with one of these.
    const types = url.searchParams.get("types")?.split(",").filter(Boolean);
    const wanted = (type: string) => !types || types.some((t) => type === t || (t.endsWith(".") && type.startsWith(t)));
    const replay = bus.since(after);
    replay.events = replay.events.filter((e) => wanted(e.type));
    if (after === undefined && tail !== undefined) replay.events = replay.events.slice(Math.max(0, replay.events.length - tail));
    if (replay.gap) send(`event: gap\ndata: ${JSON.stringify(replay.gap)}\n\n`);
    let sentUpTo = -1;
    for (const e of replay.events) {
      sentUpTo = e.id;
      send(formatSse(e));
    }
    const unsubscribe = bus.subscribe((e) => {
      if (e.id > sentUpTo && wanted(e.type)) {
        sentUpTo = e.id;
        send(formatSse(e));
      }
    });
    openStreams.add(res);
    sseClients.inc();
    const keepAlive = setInterval(() => send(": keep-alive\n\n"), opts.keepAliveMs ?? 15_000);
    const cleanup = () => {
      clearInterval(keepAlive);
      unsubscribe();
      if (openStreams.delete(res)) sseClients.dec();
    };
    req.on("close", cleanup);
    res.on("close", cleanup);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://engine.local");
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case "GET /health":
        return json(res, 200, health());
      case "GET /metrics": {
        if (!authorised(req, url.pathname)) return json(res, 401, { error: "unauthorized: missing or wrong engine secret" });
        const text = await registry.metrics();
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(text);
        return;
      }
      case "GET /events":
        if (!authorised(req, url.pathname)) return json(res, 401, { error: "unauthorized: missing or wrong engine secret" });
        return streamEvents(req, res, url);
      case "POST /command": {
        if (!authorised(req, url.pathname)) {
          commands.inc({ type: "unknown", result: "unauthorized" });
          return json(res, 401, { error: "unauthorized: missing or wrong engine secret" });
        }
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req));
        } catch (err) {
          commands.inc({ type: "unknown", result: "invalid" });
          return json(res, 400, { error: `invalid JSON body: ${(err as Error).message}` });
        }
        const type = (body as { type?: unknown } | null)?.type;
        if (opts.extraCommands && typeof type === "string" && type !== "ping" && type !== "status") {
          const handled = await opts.extraCommands(body);
          if (handled) {
            commands.inc({ type, result: handled.status === 200 ? "ok" : "invalid" });
            logger.info({ command: type, status: handled.status }, "engine command");
            return json(res, handled.status, handled.body);
          }
        }
        const parsed = commandSchema.safeParse(body);
        if (!parsed.success) {
          commands.inc({ type: "unknown", result: "invalid" });
          return json(res, 400, { error: "invalid command", fieldErrors: z.flattenError(parsed.error).fieldErrors, formErrors: z.flattenError(parsed.error).formErrors });
        }
        const cmd = parsed.data;
        logger.info({ command: cmd.type }, "engine command");
        commands.inc({ type: cmd.type, result: "ok" });
        if (cmd.type === "ping") return json(res, 200, { ok: true, type: "pong", nonce: cmd.nonce ?? null, at: new Date().toISOString() });
        return json(res, 200, { ok: true, type: "status", ...health(), subscribers: bus.subscriberCount });
      }
      default: {
        const extra = opts.routes?.[route];
        if (extra) {
          if (!authorised(req, url.pathname)) return json(res, 401, { error: "unauthorized: missing or wrong engine secret" });
          return extra(req, res, url);
        }
        return json(res, 404, { error: `no route ${route}` });
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, "engine request failed");
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      else res.end();
    });
  });

  return {
    server,
    registry,
    closeStreams() {
      for (const res of openStreams) res.end();
      openStreams.clear();
    },
  };
}
