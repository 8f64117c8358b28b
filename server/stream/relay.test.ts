import { afterEach, describe, expect, it } from "vitest";
import { EventBus } from "@/engine/events";
import { TEST_SECRET, heartbeat, readSse, startTestEngine, type SseMessage } from "@/engine/testing";
import { createRelayStream } from "./relay";

const engines: Awaited<ReturnType<typeof startTestEngine>>[] = [];
const aborts: AbortController[] = [];
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  for (const e of engines.splice(0)) await e.close().catch(() => undefined);
});

async function engineOn(bus: EventBus, port?: number) {
  const e = await startTestEngine({ bus, port });
  engines.push(e);
  return e;
}

function relay(url: string, lastEventId?: string, secret = TEST_SECRET) {
  const ac = new AbortController();
  aborts.push(ac);
  return createRelayStream({ engineUrl: url, secret, lastEventId, signal: ac.signal, retryMs: 50 });
}

const ids = (msgs: SseMessage[]) => msgs.filter((m) => m.event === "heartbeat").map((m) => Number(m.id));
const heartbeats = (n: number) => (msgs: SseMessage[]) => ids(msgs).length >= n;

describe("stream relay", () => {
  it("forwards engine events with their ids and announces the engine online", async () => {
    const bus = new EventBus(64, 1);
    const e = await engineOn(bus);
    bus.publish({ type: "heartbeat", data: heartbeat(1) });
    bus.publish({ type: "heartbeat", data: heartbeat(2) });
    const msgs = await readSse(relay(e.url), heartbeats(2));
    expect(msgs[0]).toMatchObject({ event: "status" });
    expect(JSON.parse(msgs[0]!.data)).toMatchObject({ engine: "online" });
    expect(ids(msgs)).toEqual([1, 2]);
    expect(JSON.parse(msgs[1]!.data)).toMatchObject({ id: 1, type: "heartbeat" });
  });

  it("replays only the requested backlog on a first connection, then everything after", async () => {
    const bus = new EventBus(64, 1);
    const e = await engineOn(bus);
    for (let i = 1; i <= 10; i++) bus.publish({ type: "heartbeat", data: heartbeat(i) });
    const ac = new AbortController();
    aborts.push(ac);
    const stream = createRelayStream({ engineUrl: e.url, secret: TEST_SECRET, signal: ac.signal, retryMs: 50, initialBacklog: 2 });
    setTimeout(() => bus.publish({ type: "heartbeat", data: heartbeat(11) }), 100);
    expect(ids(await readSse(stream, heartbeats(3)))).toEqual([9, 10, 11]);
  });

  it("resumes a browser from its Last-Event-ID without loss or repeats", async () => {
    const bus = new EventBus(64, 1);
    const e = await engineOn(bus);
    for (let i = 1; i <= 3; i++) bus.publish({ type: "heartbeat", data: heartbeat(i) });
    const first = await readSse(relay(e.url), heartbeats(3));
    const last = String(ids(first).at(-1));
    for (let i = 4; i <= 6; i++) bus.publish({ type: "heartbeat", data: heartbeat(i) });
    const second = await readSse(relay(e.url, last), heartbeats(3));
    expect(ids(first)).toEqual([1, 2, 3]);
    expect(ids(second)).toEqual([4, 5, 6]);
  });

  it("says offline when the engine goes away and continues from the last forwarded id when it is back", async () => {
    const bus = new EventBus(64, 1);
    const e1 = await engineOn(bus);
    const port = e1.port;
    bus.publish({ type: "heartbeat", data: heartbeat(1) });
    const stream = relay(e1.url);
    const reader = stream.getReader();
    const collected: string[] = [];
    const decoder = new TextDecoder();
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        collected.push(decoder.decode(value));
      }
    })();
    const waitFor = async (pred: () => boolean, what: string) => {
      const deadline = Date.now() + 5000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${collected.join("")}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const text = () => collected.join("");
    await waitFor(() => text().includes("id: 1\n"), "event 1");
    await e1.close();
    await waitFor(() => text().includes('"engine":"offline"'), "offline status");
    // Events published while the relay was disconnected are still buffered by the engine.
    bus.publish({ type: "heartbeat", data: heartbeat(2) });
    bus.publish({ type: "heartbeat", data: heartbeat(3) });
    await engineOn(bus, port);
    await waitFor(() => text().includes("id: 3\n"), "event 3 after reconnect");
    const eventIds = [...text().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(eventIds).toEqual([1, 2, 3]);
    const statuses = [...text().matchAll(/"engine":"(online|offline)"/g)].map((m) => m[1]);
    expect(statuses).toEqual(["online", "offline", "online"]);
    await reader.cancel();
    await pump;
  });

  it("reports offline (not a crash) when the engine refuses the secret", async () => {
    const e = await engineOn(new EventBus(8, 1));
    const msgs = await readSse(relay(e.url, undefined, "not-the-secret-not-the-secret-0000"), (m) => m.some((x) => x.event === "status"));
    expect(JSON.parse(msgs[0]!.data)).toMatchObject({ engine: "offline", detail: "engine refused the shared secret" });
  });
});
