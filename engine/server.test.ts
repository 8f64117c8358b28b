import { afterEach, describe, expect, it } from "vitest";
import { EventBus } from "./events";
import { TEST_SECRET, heartbeat, readSse, startTestEngine } from "./testing";

const auth = { authorization: `Bearer ${TEST_SECRET}` };
let engine: Awaited<ReturnType<typeof startTestEngine>> | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

describe("engine HTTP server", () => {
  it("serves /health without a secret", async () => {
    engine = await startTestEngine();
    const res = await fetch(`${engine.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; pid: number };
    expect(body.status).toBe("ok");
    expect(body.pid).toBe(process.pid);
  });

  it("refuses /metrics, /events and /command without the right secret, and logs it without the secret", async () => {
    engine = await startTestEngine();
    for (const [path, init] of [
      ["/metrics", {}],
      ["/events", {}],
      ["/command", { method: "POST", body: JSON.stringify({ type: "ping" }) }],
    ] as const) {
      expect((await fetch(`${engine.url}${path}`, init)).status).toBe(401);
      expect((await fetch(`${engine.url}${path}`, { ...init, headers: { authorization: "Bearer wrong-secret" } })).status).toBe(401);
    }
    const refusals = engine.logs.filter((l) => l.msg === "engine request refused");
    expect(refusals).toHaveLength(6);
    expect(refusals.map((l) => l.reason)).toContain("wrong secret");
    expect(JSON.stringify(engine.logs)).not.toContain(TEST_SECRET);
    expect(JSON.stringify(engine.logs)).not.toContain("wrong-secret");
  });

  it("exposes Prometheus metrics with the secret", async () => {
    engine = await startTestEngine();
    engine.bus.publish({ type: "heartbeat", data: heartbeat(1) });
    const res = await fetch(`${engine.url}/metrics`, { headers: auth });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/engine_events_published_total\{type="heartbeat"\} 1/);
    expect(text).toContain("engine_process_resident_memory_bytes");
  });

  it("answers ping and status commands and rejects malformed ones with field errors", async () => {
    engine = await startTestEngine();
    const post = (body: string) => fetch(`${engine!.url}/command`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body });
    const pong = await post(JSON.stringify({ type: "ping", nonce: "abc" }));
    expect(pong.status).toBe(200);
    expect(await pong.json()).toMatchObject({ ok: true, type: "pong", nonce: "abc" });
    const status = await post(JSON.stringify({ type: "status" }));
    expect(await status.json()).toMatchObject({ ok: true, type: "status", status: "ok" });
    const bad = await post(JSON.stringify({ type: "ping", nonce: 5 }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "invalid command", fieldErrors: { nonce: [expect.any(String)] } });
    const unknown = await post(JSON.stringify({ type: "launch-missiles" }));
    expect(unknown.status).toBe(400);
    const notJson = await post("{");
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/invalid JSON/);
  });

  it("streams events and resumes after Last-Event-ID without loss or repeats", async () => {
    engine = await startTestEngine({ bus: new EventBus(64, 1) });
    for (let i = 1; i <= 3; i++) engine.bus.publish({ type: "heartbeat", data: heartbeat(i) });
    const first = await fetch(`${engine.url}/events`, { headers: auth });
    expect(first.headers.get("content-type")).toContain("text/event-stream");
    const pub = setTimeout(() => engine!.bus.publish({ type: "heartbeat", data: heartbeat(4) }), 50);
    const got = await readSse(first.body!, (m) => m.length >= 4);
    clearTimeout(pub);
    expect(got.map((m) => m.id)).toEqual(["1", "2", "3", "4"]);
    // While disconnected, more events happen.
    for (let i = 5; i <= 7; i++) engine.bus.publish({ type: "heartbeat", data: heartbeat(i) });
    const resumed = await fetch(`${engine.url}/events`, { headers: { ...auth, "last-event-id": "4" } });
    const rest = await readSse(resumed.body!, (m) => m.length >= 3);
    expect(rest.map((m) => m.id)).toEqual(["5", "6", "7"]);
    expect(JSON.parse(rest[0]!.data)).toMatchObject({ id: 5, type: "heartbeat", data: { uptimeS: 5 } });
  });

  it("limits a first connection's backlog with ?tail=N", async () => {
    engine = await startTestEngine({ bus: new EventBus(64, 1) });
    for (let i = 1; i <= 10; i++) engine.bus.publish({ type: "heartbeat", data: heartbeat(i) });
    const res = await fetch(`${engine.url}/events?tail=3`, { headers: auth });
    const msgs = await readSse(res.body!, (m) => m.length >= 3);
    expect(msgs.map((m) => m.id)).toEqual(["8", "9", "10"]);
  });

  it("filters by event type with ?types=, a trailing dot matching a prefix", async () => {
    engine = await startTestEngine({ bus: new EventBus(64, 1) });
    engine.bus.publish({ type: "heartbeat", data: heartbeat(1) });
    engine.bus.publish({ type: "replay.state", data: { replayId: "r", state: "playing", symbol: "NQ", timeframe: "1m", position: 0, total: 1, currentTs: null, speed: 1 } });
    engine.bus.publish({ type: "heartbeat", data: heartbeat(2) });
    const hb = await readSse((await fetch(`${engine.url}/events?types=heartbeat`, { headers: auth })).body!, (m) => m.length >= 2);
    expect(hb.map((m) => m.id)).toEqual(["1", "3"]);
    const rp = await readSse((await fetch(`${engine.url}/events?types=replay.`, { headers: auth })).body!, (m) => m.length >= 1);
    expect(rp.map((m) => [m.id, m.event])).toEqual([["2", "replay.state"]]);
  });

  it("announces a gap when the requested id is no longer buffered", async () => {
    engine = await startTestEngine({ bus: new EventBus(2, 1) });
    for (let i = 1; i <= 5; i++) engine.bus.publish({ type: "heartbeat", data: heartbeat(i) });
    const res = await fetch(`${engine.url}/events?lastEventId=1`, { headers: auth });
    const msgs = await readSse(res.body!, (m) => m.length >= 3);
    expect(msgs[0]).toMatchObject({ event: "gap" });
    expect(JSON.parse(msgs[0]!.data)).toEqual({ from: 1, to: 4 });
    expect(msgs.slice(1).map((m) => m.id)).toEqual(["4", "5"]);
  });
});
