import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, databaseKinds, type TestDatabase } from "@/server/testing/databases";
import { openSql, type Sql } from "./sql";
import { createTrainingRun, deleteModel, getModel, getTrainingCheckpoint, getTrainingRun, listModels, listTrainingRuns, markInterruptedRuns, saveModel, updateTrainingRun } from "./training";

describe.each(databaseKinds())("training runs and model registry on %s", (kind) => {
  let t: TestDatabase;
  let sql: Sql;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    sql = openSql(t.url);
  });
  afterAll(async () => {
    await sql.close();
    await t.dispose();
  });

  it("keeps a run's progress, curves and checkpoint bytes exactly; marks interrupted runs stopped", async () => {
    await createTrainingRun(sql, { id: "r1", name: "ppo cartpole", env: "cartpole", algo: "ppo", seed: 1, config: { steps: 1000 }, totalSteps: 1000, createdById: "u" });
    const ck = new Uint8Array([0, 1, 2, 250, 255, 7]);
    await updateTrainingRun(sql, "r1", { steps: 512, curves: { episodeReturn: [[512, 20.5]] }, checkpoint: ck });
    const run = (await getTrainingRun(sql, "r1"))!;
    expect(run).toMatchObject({ status: "running", steps: 512, totalSteps: 1000, hasCheckpoint: true, curves: { episodeReturn: [[512, 20.5]] } });
    expect(Array.from(await getTrainingCheckpoint(sql, "r1") ?? [])).toEqual(Array.from(ck));
    expect(await markInterruptedRuns(sql)).toBe(1);
    expect((await listTrainingRuns(sql))[0]).toMatchObject({ id: "r1", status: "stopped" });
  });

  it("stores models with their ONNX bytes and metadata", async () => {
    const onnx = new Uint8Array(3000).map((_, i) => i % 251);
    await saveModel(sql, { id: "m1", name: "ppo-1", runId: "r1", algo: "ppo", env: "cartpole", hyperparams: { lr: 2.5e-4 }, featureSpec: null, dataSpans: null, seed: 1, metrics: { inSample: { meanReturn: 480 } }, codeVersion: "abc123", onnx });
    const [m] = await listModels(sql);
    expect(m).toMatchObject({ id: "m1", onnxBytes: 3000, hyperparams: { lr: 2.5e-4 }, codeVersion: "abc123" });
    expect(Array.from((await getModel(sql, "m1"))!.onnx)).toEqual(Array.from(onnx));
    await deleteModel(sql, "m1");
    expect(await listModels(sql)).toHaveLength(0);
  });
});
