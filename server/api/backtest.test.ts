import { Readable } from "node:stream";
import pino from "pino";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtinCsv } from "@/engine/bench/gen";
import { BacktestService } from "@/engine/backtest-service";
import { EventBus } from "@/engine/events";
import { loadEnv } from "@/engine/runtime/env";
import { importSeries } from "@/engine/store/importer";
import { ensureBuiltinInstruments, getInstrument } from "@/engine/store/instruments";
import { saveModel } from "@/engine/store/training";
import { startTestEngine, TEST_SECRET } from "@/engine/testing";
import { createCaller } from "@/server/api/root";
import { createContextInner } from "@/server/api/trpc";
import type { Role } from "@/server/auth/roles";
import { type ServerDeps, createServerDeps } from "@/server/deps";
import { createTestDatabase, databaseKinds, type TestDatabase } from "@/server/testing/databases";

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
}

describe.each(databaseKinds())("backtest router on %s", (kind) => {
  let t: TestDatabase;
  let deps: ServerDeps;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let svc: BacktestService;
  let svcSql: import("@/engine/store/sql").Sql;
  const ids: Partial<Record<Role, string>> = {};
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    const bus = new EventBus(1000, 1);
    const { openSql } = await import("@/engine/store/sql");
    svcSql = openSql(t.url);
    svc = new BacktestService(svcSql, bus, pino({ level: "silent" }));
    engine = await startTestEngine({ bus, extraCommands: (b) => svc.handle(b) });
    deps = { ...createServerDeps(loadEnv({ DATABASE_URL: t.url, DATA_DIR: "/tmp/tf-bt-router", ENGINE_URL: engine.url }), t.db), engineSecret: TEST_SECRET };
    await ensureBuiltinInstruments(deps.sql());
    await importSeries(deps.sql(), { instrument: (await getInstrument(deps.sql(), "BTCUSDT"))!, timeframe: "1m", timeZone: "UTC", fileName: "w.csv", source: Readable.from([Buffer.from(builtinCsv(20_000, { seed: 2, start: 30_000, step: 15 }))]), nowMs: Date.UTC(2030, 0, 1) });
    for (const role of ["viewer", "trader"] as const) ids[role] = (await deps.users.create({ email: `${role}@bt.example.com`, passwordHash: "x", role })).id;
  });
  afterAll(async () => {
    await engine.close();
    await svcSql.close();
    await deps.sql().close();
    await t.dispose();
  });
  const as = async (role: Role | null) => createCaller(await createContextInner(deps, role ? ids[role] : null));

  it("needs a session; viewers read, traders run and save", async () => {
    expect(await code((await as(null)).backtest.list())).toBe("UNAUTHORIZED");
    expect(await code((await as(null)).backtest.strategies())).toBe("UNAUTHORIZED");
    const viewer = await as("viewer");
    expect((await viewer.backtest.strategies()).builtin.map((s) => s.id)).toEqual(["sma-cross", "rsi-reversion", "orb", "bollinger-breakout"]);
    expect(await code(viewer.backtest.run({ symbol: "BTCUSDT", timeframe: "1m", strategy: "sma-cross" }))).toBe("FORBIDDEN");
    expect(await code(viewer.backtest.saveSpec({ spec: {} }))).toBe("FORBIDDEN");
  });

  it("lists registered models for the strategy picker: metadata only, never the ONNX bytes", async () => {
    expect(await code((await as(null)).backtest.models())).toBe("UNAUTHORIZED");
    const common = { runId: null, algo: "dqn", hyperparams: { hidden: [64] }, dataSpans: null, seed: 1, metrics: { secret: 1 }, codeVersion: "test", onnx: Uint8Array.from([1, 2, 3]) };
    await saveModel(deps.sql(), { ...common, id: "bt-model-1", name: "DQN BTCUSDT 15m", env: "trading", featureSpec: { window: 4, features: "default", actions: "target", contractSize: 0.1, symbol: "BTCUSDT", timeframe: "15m" } });
    await saveModel(deps.sql(), { ...common, id: "bt-model-2", name: "old", env: "trading", featureSpec: null });
    const models = await (await as("viewer")).backtest.models();
    const m = models.find((x) => x.id === "bt-model-1")!;
    expect(Object.keys(m).sort()).toEqual(["algo", "createdAt", "env", "id", "name", "symbol", "timeframe"]);
    expect(m).toMatchObject({ name: "DQN BTCUSDT 15m", algo: "dqn", env: "trading", symbol: "BTCUSDT", timeframe: "15m" });
    expect(models.find((x) => x.id === "bt-model-2")).toMatchObject({ symbol: null, timeframe: null });
  });

  it("runs a backtest in the engine and reads it back", async () => {
    const trader = await as("trader");
    const { runId } = await trader.backtest.run({ symbol: "BTCUSDT", timeframe: "15m", strategy: "rsi-reversion", params: { period: 10 }, size: 0.1, cash: 50_000 });
    await svc.idle();
    const run = await trader.backtest.get({ id: runId });
    expect(run).toMatchObject({ status: "done", symbol: "BTCUSDT", timeframe: "15m", strategy: "rsi-reversion" });
    expect((await trader.backtest.list()).map((r) => r.id)).toContain(runId);
    const bad = await trader.backtest.run({ symbol: "BTCUSDT", timeframe: "1m", strategy: "sma-cross", params: { fast: 50, slow: 10 } }).catch((e: TRPCError) => e);
    expect((bad as TRPCError).code).toBe("BAD_REQUEST");
    expect((bad as TRPCError).message).toMatch(/params\.fast/);
  });

  it("saves builder specs as versions with field-level errors for invalid ones", async () => {
    const trader = await as("trader");
    const bad = await trader.backtest.saveSpec({ spec: { name: "x y", longEntry: { combine: "and", items: [{ left: { type: "value", value: 1 }, op: "between" }] } } });
    expect(bad.ok).toBe(false);
    expect(bad.issues.map((i) => i.path)).toEqual(expect.arrayContaining(["longEntry.items.0.low", "longEntry.items.0.high"]));
    const { example } = await trader.backtest.builderCatalog();
    const v1 = await trader.backtest.saveSpec({ spec: example });
    const v2 = await trader.backtest.saveSpec({ spec: { ...example, description: "second" } });
    expect([v1.ok && v1.version, v2.ok && v2.version]).toEqual([1, 2]);
    expect((await trader.backtest.spec({ name: example.name as string })).version).toBe(2);
    const { runId } = await trader.backtest.run({ symbol: "BTCUSDT", timeframe: "5m", strategy: `builder:${example.name}@1` });
    await svc.idle();
    expect((await trader.backtest.get({ id: runId })).status).toBe("done");
  });
});
