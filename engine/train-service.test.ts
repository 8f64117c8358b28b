import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@/server/testing/databases";
import { BUILTIN_INSTRUMENTS } from "./data/instruments";
import { EventBus, type EngineEvent } from "./events";
import { syntheticBars } from "./rl/env/testdata";
import { getTrainingRun, listModels } from "./store/training";
import { openSql, type Sql } from "./store/sql";
import { TrainService } from "./train-service";

describe("TrainService", () => {
  let t: TestDatabase;
  let sql: Sql;
  beforeAll(async () => {
    t = await createTestDatabase("sqlite");
    sql = openSql(t.url);
  });
  afterAll(async () => {
    await sql.close();
    await t.dispose();
  });

  function service() {
    const bus = new EventBus(10_000, 1);
    const events: EngineEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const btc = BUILTIN_INSTRUMENTS.find((i) => i.symbol === "BTC-PERP")!;
    const svc = new TrainService(sql, bus, pino({ level: "silent" }), { loadBars: async () => ({ bars: syntheticBars(4000, { seed: 9, start: 40_000, tick: 0.1 }), instrument: btc }) });
    return { svc, events };
  }

  it("trains to the end, streams curves, registers the model with its metadata", async () => {
    const { svc, events } = service();
    const res = await svc.handle({ type: "train.start", config: { env: "cartpole", algo: "ppo", steps: 4096, seed: 7 }, userId: "u1" });
    const runId = (res!.body as { runId: string }).runId;
    await svc.idle();
    const run = (await getTrainingRun(sql, runId))!;
    expect(run.status).toBe("done");
    expect(run.steps).toBe(4096);
    const modelId = (run.summary as { modelId: string }).modelId;
    const model = (await listModels(sql)).find((m) => m.id === modelId)!;
    expect(model).toMatchObject({ algo: "ppo", env: "cartpole", seed: 7, runId });
    expect(model.onnxBytes).toBeGreaterThan(1000);
    expect(model.codeVersion.length).toBeGreaterThan(3);
    const last = events.filter((e) => e.type === "train.progress").at(-1)!.data as { status: string; modelId: string };
    expect(last).toMatchObject({ status: "done", modelId });
  }, 60_000);

  it("stops with a checkpoint, resumes from the same step, resets", async () => {
    const { svc } = service();
    const res = await svc.handle({ type: "train.start", config: { env: "cartpole", algo: "ppo", steps: 2_000_000, seed: 1 } });
    const runId = (res!.body as { runId: string }).runId;
    await new Promise((r) => setTimeout(r, 300));
    expect((await svc.handle({ type: "train.stop", runId }))?.status).toBe(200);
    await svc.idle();
    const stopped = (await getTrainingRun(sql, runId))!;
    expect(stopped.status).toBe("stopped");
    expect(stopped.hasCheckpoint).toBe(true);
    expect(stopped.steps).toBeGreaterThan(0);
    const resumed = await svc.handle({ type: "train.resume", runId });
    expect((resumed!.body as { fromStep: number }).fromStep).toBe(stopped.steps);
    await new Promise((r) => setTimeout(r, 200));
    await svc.handle({ type: "train.stop", runId });
    await svc.idle();
    expect((await getTrainingRun(sql, runId))!.steps).toBeGreaterThan(stopped.steps);
    expect((await svc.handle({ type: "train.reset", runId }))?.status).toBe(200);
    expect(await getTrainingRun(sql, runId)).toMatchObject({ steps: 0, hasCheckpoint: false });
  }, 60_000);

  it("train.compute says where device auto runs the ONNX sessions, and why not on a GPU", async () => {
    const { svc } = service();
    const { cudaUnavailableReason } = await import("./rl/onnx/runtime");
    const why = await cudaUnavailableReason();
    const res = await svc.handle({ type: "train.compute" });
    expect(res?.status).toBe(200);
    expect(res!.body).toEqual(why === null ? { provider: "cuda", note: null } : { provider: "cpu", note: `no usable GPU: ${why}` });
  });

  it("refuses a configuration with a planted look-ahead feature, naming it", async () => {
    const { svc } = service();
    const res = await svc.handle({ type: "train.start", config: { env: "trading", algo: "ppo", steps: 1000, trading: { symbol: "BTC-PERP", timeframe: "1m", plantLookAhead: true } } });
    expect(res).toMatchObject({ status: 400, body: { field: "trading.features" } });
    expect((res!.body as { error: string }).error).toMatch(/next_return/);
  });
});
