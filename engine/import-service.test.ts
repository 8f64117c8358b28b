import { gzipSync } from "node:zlib";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/server/testing/databases";
import { EventBus, type EngineEvent } from "./events";
import { importRoute } from "./import-service";
import { createEngineServer } from "./server";
import { ensureBuiltinInstruments } from "./store/instruments";
import { getSeries } from "./store/series";
import { openSql } from "./store/sql";
import { TEST_SECRET } from "./testing";

describe("engine POST /import", () => {
  let t: TestDatabase;
  let url = "";
  let close: () => Promise<void>;
  const events: EngineEvent[] = [];
  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
    const sql = openSql(t.url);
    await ensureBuiltinInstruments(sql);
    await sql.close();
    const bus = new EventBus(1000, 1);
    bus.subscribe((e) => events.push(e));
    const logger = pino({ level: "silent" });
    const engine = createEngineServer({ bus, secret: TEST_SECRET, logger, routes: { "POST /import": importRoute(t.url, bus, logger) } });
    await new Promise<void>((r) => engine.server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(engine.server.address() as { port: number }).port}`;
    close = () => new Promise<void>((r) => engine.server.close(() => r()));
  });
  afterAll(async () => {
    await close();
    await t.dispose();
  });

  const csv = () => {
    const rows = ["open_time,open,high,low,close,volume"];
    for (let i = 0; i < 100; i++) rows.push(`${Date.UTC(2024, 0, 1) + i * 60_000},100,101,99,100.5,${i}`);
    return rows.join("\n") + "\n";
  };
  const post = (q: string, body: BodyInit, secret = TEST_SECRET) => fetch(`${url}/import?${q}`, { method: "POST", headers: { authorization: `Bearer ${secret}` }, body });

  it("imports a streamed body (plain or gzip), reports, and publishes progress", async () => {
    const res = await post("symbol=btcusdt&timeframe=1m&fileName=a.csv&uploadId=u1", csv());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ symbol: "BTCUSDT", rowsRead: 100, stored: 100, quarantined: 0 });
    const gz = await post("symbol=BTCUSDT&timeframe=1m&fileName=a.csv.gz&uploadId=u2", gzipSync(Buffer.from(csv())));
    expect(await gz.json()).toMatchObject({ rowsRead: 100, stored: 100, inserted: 0, unchanged: 100 });
    const done = events.filter((e) => e.type === "import.progress" && e.data.done);
    expect(done.map((e) => (e.type === "import.progress" ? [e.data.uploadId, e.data.rowsRead, e.data.error] : null))).toEqual([
      ["u1", 100, null],
      ["u2", 100, null],
    ]);
    const sql = openSql(t.url);
    expect((await getSeries(sql, "BTCUSDT", "1m"))?.count).toBe(100);
    await sql.close();
  });

  it("refuses a wrong secret, bad parameters, an unknown symbol and a bad file, naming the problem", async () => {
    expect((await post("symbol=BTCUSDT&timeframe=1m", csv(), "wrong-secret-wrong-secret-wrong-secret")).status).toBe(401);
    const badTf = await post("symbol=BTCUSDT&timeframe=2m", csv());
    expect(badTf.status).toBe(400);
    expect(await badTf.json()).toMatchObject({ fieldErrors: { timeframe: [expect.stringMatching(/timeframe must be one of/)] } });
    const unknown = await post("symbol=NOPE&timeframe=1m", csv());
    expect(await unknown.json()).toEqual({ error: 'unknown symbol "NOPE": add the instrument first' });
    const header = await post("symbol=BTCUSDT&timeframe=1m", "x,y\n1,2\n");
    expect(header.status).toBe(400);
    expect(((await header.json()) as { error: string }).error).toMatch(/no recognizable header/);
  });
});
