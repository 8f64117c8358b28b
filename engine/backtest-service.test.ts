import { Readable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/server/testing/databases";
import { builtinCsv } from "./bench/gen";
import { BacktestService } from "./backtest-service";
import { EventBus, type EngineEvent } from "./events";
import { getRun, listRuns, saveSpec } from "./store/backtests";
import { importSeries } from "./store/importer";
import { ensureBuiltinInstruments, getInstrument } from "./store/instruments";
import { openSql, type Sql } from "./store/sql";
import { saveModel } from "./store/training";
import { defaultFeatureWidth } from "./rl/model-strategy";
import { emitMlp } from "./rl/onnx/mlp";

for (const kind of ["sqlite", "postgresql"] as const) {
  describe.skipIf(kind === "postgresql" && !process.env.TEST_POSTGRES_URL)(`BacktestService (${kind})`, () => {
    let t: TestDatabase;
    let sql: Sql;
    beforeAll(async () => {
      t = await createTestDatabase(kind);
      sql = openSql(t.url);
      await ensureBuiltinInstruments(sql);
      const csv = builtinCsv(30_000, { seed: 11, start: 40_000, step: 20, tick: 0.1 });
      await importSeries(sql, { instrument: (await getInstrument(sql, "BTC-PERP"))!, timeframe: "1m", timeZone: "UTC", fileName: "w.csv", source: Readable.from([Buffer.from(csv)]), nowMs: Date.UTC(2030, 0, 1) });
    });
    afterAll(async () => {
      await sql.close();
      await t.dispose();
    });

    function service() {
      const bus = new EventBus(10_000, 1);
      const events: EngineEvent[] = [];
      bus.subscribe((e) => events.push(e));
      return { svc: new BacktestService(sql, bus, pino({ level: "silent" })), events };
    }

    it("runs a stored series, streams progress, persists the run with its report", async () => {
      const { svc, events } = service();
      const res = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "5m" }, strategy: "sma-cross", params: { fast: 5, slow: 20 }, size: 0.5, cash: 100_000 }, userId: "u1" });
      expect(res?.status).toBe(200);
      const runId = (res!.body as { runId: string }).runId;
      await svc.idle();
      const progress = events.filter((e) => e.type === "backtest.progress").map((e) => e.data as { runId: string; status: string; done: number; total: number });
      expect(progress[0]).toMatchObject({ runId, status: "running" });
      expect(progress.at(-1)).toMatchObject({ runId, status: "done", done: 6000, total: 6000 });
      const run = (await getRun(sql, runId))!;
      expect(run.status).toBe("done");
      expect(run.timeframe).toBe("5m");
      expect(run.bars).toBe(6000);
      expect(run.fills).toBeGreaterThan(0);
      expect(run.metrics).toHaveProperty("sharpe");
      expect(run.trades.length).toBe((run.metrics as { trades: number }).trades);
      expect(run.equity.length).toBeGreaterThan(0);
      expect(run.createdById).toBe("u1");
      expect((await listRuns(sql)).map((r) => r.id)).toContain(runId);
    });

    it("refuses bad configurations naming the field, and file paths from the app", async () => {
      const { svc } = service();
      const bad = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "1m" }, strategy: "sma-cross", params: { fast: 40, slow: 20 } } });
      expect(bad).toMatchObject({ status: 400, body: { field: "params.fast" } });
      const span = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "1m" }, strategy: "sma-cross", from: Date.UTC(2031, 0, 1) } });
      expect(span).toMatchObject({ status: 400, body: { field: "from" } });
      const file = await svc.handle({ type: "backtest.start", config: { data: { kind: "csv", path: "/etc/passwd" }, strategy: "sma-cross" } });
      expect(file).toMatchObject({ status: 400, body: { field: "data" } });
      expect(await svc.handle({ type: "replay.start" })).toBeUndefined();
    });

    it("a builder strategy that fails at run time fails its run with the error; the service keeps going", async () => {
      const { svc, events } = service();
      // risk sizing on an instrument whose ATR stop makes every trade impossible is fine; to force a run-time
      // error we use a spec whose indicator reads an output that only exists at run time... instead, break the
      // compiled strategy by saving a spec and then asking for a version that does not exist.
      await saveSpec(sql, "ok-spec", { name: "ok-spec", longEntry: { combine: "and", items: [{ left: { type: "price", field: "close" }, op: "gt", right: { type: "indicator", indicator: { kind: "sma", period: 50 } } }] }, longExit: { combine: "and", items: [{ left: { type: "price", field: "close" }, op: "lt", right: { type: "indicator", indicator: { kind: "sma", period: 50 } } }] } }, null);
      const missing = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "1m" }, strategy: "builder:ok-spec@9" } });
      expect(missing).toMatchObject({ status: 400, body: { field: "strategy" } });
      // a stored spec that no longer validates (written by an older version, say) fails the run, not the engine
      await sql.run(`INSERT INTO "StrategySpec" ("name","version","spec","createdAt") VALUES (?,?,?,?)`, ["broken", 1, JSON.stringify({ name: "broken", longEntry: { combine: "and", items: [] } }), new Date().toISOString()]);
      const broken = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "1m" }, strategy: "builder:broken" } });
      expect(broken).toMatchObject({ status: 400, body: { field: "strategy" } });
      const ok = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "1m" }, strategy: "builder:ok-spec" } });
      expect(ok?.status).toBe(200);
      await svc.idle();
      const last = events.filter((e) => e.type === "backtest.progress").at(-1)!.data as { status: string; fills: number };
      expect(last.status).toBe("done");
      expect(last.fills).toBeGreaterThan(0);
    });

    it("a strategy that throws mid-run fails that run with its error; the next run works", async () => {
      const bus = new EventBus(10_000, 1);
      const events: EngineEvent[] = [];
      bus.subscribe((e) => events.push(e));
      const { runnerDeps } = await import("./backtest-service");
      const deps = runnerDeps(sql);
      const svc = new BacktestService(sql, bus, pino({ level: "silent" }), {
        ...deps,
        builder: async (name) => ({ name, version: 1, create: () => ({ name: "thrower", onBar: (ctx) => { if (ctx.data.count === 100) throw new Error("division by zero in rule 3"); } }) }),
      });
      const res = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "1m" }, strategy: "builder:thrower" } });
      const runId = (res!.body as { runId: string }).runId;
      await svc.idle();
      const run = (await getRun(sql, runId))!;
      expect(run.status).toBe("failed");
      expect(run.error).toMatch(/thrower failed in onBar at .*: division by zero in rule 3/);
      expect(events.filter((e) => e.type === "backtest.progress").at(-1)!.data).toMatchObject({ runId, status: "failed", error: run.error });
      const next = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "1h" }, strategy: "sma-cross" } });
      await svc.idle();
      expect((await getRun(sql, (next!.body as { runId: string }).runId))!.status).toBe("done");
    });

    it("backtests a registered trading model as model:<id> and refuses a CartPole model naming the strategy", async () => {
      const { svc } = service();
      const obsSize = 4 * defaultFeatureWidth() + 2;
      const weights = (n: number) => Float32Array.from({ length: n }, (_, k) => Math.sin(k * 7.31) * 0.3);
      const onnx = emitMlp({ sizes: [obsSize, 3], activation: "tanh" }, weights(obsSize * 3 + 3), { output: "logits" }).toBytes();
      const common = { runId: null, algo: "ppo", hyperparams: {}, dataSpans: null, seed: 1, metrics: null, codeVersion: "test" };
      await saveModel(sql, { ...common, id: "model-t", name: "PPO test model", env: "trading", featureSpec: { window: 4, features: "default", normalisation: "expanding (past only)", actions: "target", contractSize: 0.1, maxUnits: 1, cash: 100_000, unrealizedScale: 1000, flatAtSessionEnd: false, obsSize, numActions: 3, symbol: "BTC-PERP", timeframe: "1m" }, onnx });
      await saveModel(sql, { ...common, id: "model-c", name: "PPO CartPole", env: "cartpole", featureSpec: { obs: "CartPole-v1 state" }, onnx: emitMlp({ sizes: [4, 2], activation: "tanh" }, weights(10)).toBytes() });
      const res = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "5m" }, strategy: "model:model-t", from: Date.UTC(2020, 0, 10) } });
      expect(res?.status).toBe(200);
      await svc.idle();
      const run = (await getRun(sql, (res!.body as { runId: string }).runId))!;
      expect(run.status).toBe("done");
      expect(run.strategy).toBe("model:model-t");
      expect(run.fills).toBeGreaterThan(0);
      const cart = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "5m" }, strategy: "model:model-c" } });
      expect(cart).toMatchObject({ status: 400, body: { field: "strategy" } });
      expect((cart!.body as { error: string }).error).toMatch(/CartPole.*only trading models can be backtested/);
      const none = await svc.handle({ type: "backtest.start", config: { data: { kind: "series", symbol: "BTC-PERP", timeframe: "5m" }, strategy: "model:nope" } });
      expect(none).toMatchObject({ status: 400, body: { field: "strategy" } });
    });
  });
}
