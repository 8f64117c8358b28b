import { Readable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/server/testing/databases";
import { builtinCsv } from "./bench/gen";
import { EventBus, type EngineEvent } from "./events";
import { OptimizeService } from "./optimize-service";
import { getOptimization } from "./store/backtests";
import { importSeries } from "./store/importer";
import { ensureBuiltinInstruments, getInstrument } from "./store/instruments";
import { openSql, type Sql } from "./store/sql";

describe("OptimizeService", () => {
  let t: TestDatabase;
  let sql: Sql;
  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
    sql = openSql(t.url);
    await ensureBuiltinInstruments(sql);
    await importSeries(sql, { instrument: (await getInstrument(sql, "BTCUSDT"))!, timeframe: "1m", timeZone: "UTC", fileName: "w.csv", source: Readable.from([Buffer.from(builtinCsv(20_000, { seed: 5, start: 30_000, step: 15 }))]), nowMs: Date.UTC(2030, 0, 1) });
  });
  afterAll(async () => {
    await sql.close();
    await t.dispose();
  });

  const backtest = { data: { kind: "series", symbol: "BTCUSDT", timeframe: "1m" }, strategy: "sma-cross", size: 0.1, cash: 100_000 };

  it("runs a grid in the engine, streams progress and stores the result with its heatmap and overfitting statistics", async () => {
    const bus = new EventBus(10_000, 1);
    const events: EngineEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const svc = new OptimizeService(sql, bus, pino({ level: "silent" }));
    const res = await svc.handle({ type: "optimize.start", job: { kind: "grid", backtest, space: { fast: [5, 10, 20], slow: [30, 60] }, workers: 0 }, userId: "u1" });
    expect(res?.status).toBe(200);
    const id = (res!.body as { optimizationId: string }).optimizationId;
    await svc.idle();
    const row = (await getOptimization(sql, id))!;
    expect(row.status).toBe("done");
    const result = row.result as { trials: unknown[]; heatmap: unknown; overfit: unknown; best: { params: Record<string, number> } };
    expect(result.trials).toHaveLength(6);
    expect(result.heatmap).toBeTruthy();
    expect(result.overfit).toBeTruthy();
    expect(result.best.params.fast!).toBeLessThan(result.best.params.slow!);
    const last = events.filter((e) => e.type === "optimize.progress").at(-1)!.data as { status: string; done: number };
    expect(last).toMatchObject({ status: "done", done: 6 });
    const { listOptimizations } = await import("./store/backtests");
    expect((await listOptimizations(sql)).find((r) => r.id === id)).toMatchObject({ trials: 6, status: "done" });
  });

  it("refuses a bad job naming the field, and builder strategies", async () => {
    const svc = new OptimizeService(sql, new EventBus(100, 1), pino({ level: "silent" }));
    expect(await svc.handle({ type: "optimize.start", job: { kind: "grid", backtest, space: { fast: [5] }, genetic: { population: 2 } } })).toMatchObject({ status: 400, body: { field: "genetic.population" } });
    expect(await svc.handle({ type: "optimize.start", job: { kind: "grid", backtest: { ...backtest, strategy: "builder:x" }, space: { fast: [5] } } })).toMatchObject({ status: 400, body: { field: "backtest.strategy" } });
    expect(await svc.handle({ type: "optimize.start", job: { kind: "grid", backtest: { ...backtest, strategy: "model:x", params: {} }, space: { fast: [5] } } })).toMatchObject({ status: 400, body: { field: "backtest.strategy" } });
    expect(await svc.handle({ type: "optimize.cancel", optimizationId: "nope" })).toMatchObject({ status: 404 });
    expect(await svc.handle({ type: "optimize.start", job: { kind: "grid", backtest, space: { speed: [5] } } })).toMatchObject({ status: 400, body: { field: "space.speed" } });
    expect(await svc.handle({ type: "optimize.start", job: { kind: "grid", backtest: { ...backtest, params: { fast: 0 } }, space: { slow: [60] } } })).toMatchObject({ status: 400, body: { field: "backtest.params.fast" } });
  });
});
