import { describe, expect, it } from "vitest";
import { EventBus, formatSse, parseLastEventId, type HeartbeatData } from "./events";

const hb = (n: number): HeartbeatData => ({ pid: 1, startedAt: "2026-01-01T00:00:00.000Z", uptimeS: n, cpuPct: 0, cores: 2, rssBytes: 1, heapUsedBytes: 1, heapTotalBytes: 1, loopLagP99Ms: 0 });
const clock = { now: () => Date.UTC(2026, 0, 1) };

describe("EventBus", () => {
  it("gives strictly increasing ids starting at firstId and stamps time from the clock", () => {
    const bus = new EventBus(8, 100, clock);
    const a = bus.publish({ type: "heartbeat", data: hb(1) });
    const b = bus.publish({ type: "heartbeat", data: hb(2) });
    expect([a.id, b.id]).toEqual([100, 101]);
    expect(a.ts).toBe("2026-01-01T00:00:00.000Z");
    expect(bus.lastId).toBe(101);
    expect(bus.oldestId).toBe(100);
  });

  it("replays exactly the events after the given id", () => {
    const bus = new EventBus(8, 1, clock);
    for (let i = 0; i < 5; i++) bus.publish({ type: "heartbeat", data: hb(i) });
    const r = bus.since(2);
    expect(r.events.map((e) => e.id)).toEqual([3, 4, 5]);
    expect(r.gap).toBeUndefined();
    expect(bus.since(5).events).toEqual([]);
    expect(bus.since(undefined).events.map((e) => e.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it("keeps only the newest `capacity` events and reports a gap for older ids", () => {
    const bus = new EventBus(3, 1, clock);
    for (let i = 0; i < 10; i++) bus.publish({ type: "heartbeat", data: hb(i) });
    expect(bus.oldestId).toBe(8);
    const r = bus.since(2);
    expect(r.events.map((e) => e.id)).toEqual([8, 9, 10]);
    expect(r.gap).toEqual({ from: 2, to: 8 });
    // The id just before the oldest buffered one is not a gap.
    expect(bus.since(7).gap).toBeUndefined();
  });

  it("treats an id it never issued as a gap and resends everything", () => {
    const bus = new EventBus(4, 1000, clock);
    bus.publish({ type: "heartbeat", data: hb(0) });
    const r = bus.since(999_999);
    expect(r.events.map((e) => e.id)).toEqual([1000]);
    expect(r.gap).toBeDefined();
  });

  it("notifies subscribers and survives a throwing subscriber", () => {
    const bus = new EventBus(4, 1, clock);
    const seen: number[] = [];
    bus.subscribe(() => {
      throw new Error("bad subscriber");
    });
    const off = bus.subscribe((e) => seen.push(e.id));
    bus.publish({ type: "heartbeat", data: hb(0) });
    off();
    bus.publish({ type: "heartbeat", data: hb(1) });
    expect(seen).toEqual([1]);
    expect(bus.subscriberCount).toBe(1);
  });

  it("rejects a nonsensical capacity or first id", () => {
    expect(() => new EventBus(0)).toThrow(/capacity/);
    expect(() => new EventBus(4, -1)).toThrow(/firstId/);
  });
});

describe("parseLastEventId / formatSse", () => {
  it("accepts non-negative integers only", () => {
    expect(parseLastEventId("42")).toBe(42);
    expect(parseLastEventId(" 7 ")).toBe(7);
    expect(parseLastEventId("")).toBeUndefined();
    expect(parseLastEventId("-1")).toBeUndefined();
    expect(parseLastEventId("1e3")).toBeUndefined();
    expect(parseLastEventId(null)).toBeUndefined();
    expect(parseLastEventId("99999999999999999")).toBeUndefined();
  });

  it("writes id, event and one data line", () => {
    const bus = new EventBus(2, 5, clock);
    const e = bus.publish({ type: "heartbeat", data: hb(3) });
    const text = formatSse(e);
    expect(text.startsWith("id: 5\nevent: heartbeat\ndata: {")).toBe(true);
    expect(text.endsWith("}\n\n")).toBe(true);
    expect(JSON.parse(text.split("data: ")[1]!)).toEqual(e);
  });
});
