import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/server/testing/databases";
import { EventBus, type EngineEvent } from "./events";
import { ReplayService } from "./replay-service";
import { importSeries } from "./store/importer";
import { ensureBuiltinInstruments, getInstrument } from "./store/instruments";
import { getSeries, loadSeries } from "./store/series";
import { openSql, type Sql } from "./store/sql";

describe("ReplayService (store -> engine stream)", () => {
  let t: TestDatabase;
  let sql: Sql;
  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
    sql = openSql(t.url);
    await ensureBuiltinInstruments(sql);
    const rows = ["open_time,open,high,low,close,volume"];
    for (let i = 0; i < 300; i++) rows.push(`${Date.UTC(2024, 0, 1) + i * 60_000},${100 + i},${101 + i},${99 + i},${100.5 + i},${i + 1}`);
    await importSeries(sql, { instrument: (await getInstrument(sql, "BTCUSDT"))!, timeframe: "1m", timeZone: "UTC", fileName: "r.csv", source: Readable.from([Buffer.from(rows.join("\n"))]), nowMs: Date.UTC(2025, 0, 1) });
  });
  afterAll(async () => {
    await sql.close();
    await t.dispose();
  });

  async function until(events: EngineEvent[], pred: () => boolean) {
    const end = Date.now() + 5000;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out; ${events.length} events`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it("plays a stored series onto the bus exactly, bar for bar, and reports its state", async () => {
    const bus = new EventBus(10_000, 1);
    const events: EngineEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const svc = new ReplayService(sql, bus);
    const res = await svc.handle({ type: "replay.start", symbol: "BTCUSDT", timeframe: "1m", speed: "max" });
    expect(res).toMatchObject({ status: 200, body: { ok: true, replay: { symbol: "BTCUSDT", timeframe: "1m", total: 300 } } });
    await until(events, () => events.some((e) => e.type === "replay.state" && e.data.state === "finished"));
    const bars = events.filter((e) => e.type === "replay.bar").map((e) => (e.type === "replay.bar" ? e.data : null)!);
    const stored = await loadSeries(sql, (await getSeries(sql, "BTCUSDT", "1m"))!);
    expect(bars).toHaveLength(stored.length);
    bars.forEach((b, i) => expect([b.ts, b.open, b.high, b.low, b.close, b.volume]).toEqual(stored.f.map((c) => c[i])));
  });

  it("resamples on the fly, derives ticks, and refuses bad commands with a named reason", async () => {
    const bus = new EventBus(10_000, 1);
    const events: EngineEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const svc = new ReplayService(sql, bus);
    await svc.handle({ type: "replay.start", symbol: "BTCUSDT", timeframe: "1h", speed: "max", ticks: true });
    await until(events, () => events.some((e) => e.type === "replay.state" && e.data.state === "finished"));
    const hourly = events.filter((e) => e.type === "replay.bar");
    expect(hourly).toHaveLength(5); // 300 minutes
    expect(events.filter((e) => e.type === "replay.tick")).toHaveLength(20);
    expect(await svc.handle({ type: "replay.start", symbol: "NOPE", timeframe: "1m" })).toMatchObject({ status: 400, body: { error: "unknown symbol NOPE" } });
    expect(await svc.handle({ type: "replay.start", symbol: "ES", timeframe: "1m" })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/no stored bars for ES/) } });
    expect(await svc.handle({ type: "replay.seek" })).toMatchObject({ status: 400, body: { error: "invalid command" } });
    expect(await svc.handle({ type: "ping" })).toBeUndefined();
  });
});
