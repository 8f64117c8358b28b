import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, databaseKinds, type TestDatabase } from "@/server/testing/databases";
import { openSql, type Sql } from "./sql";
import { createTuning, getTuning, listTunings, markInterruptedTunings, updateTuning } from "./tuning";

describe.each(databaseKinds())("RL tunings on %s", (kind) => {
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

  const job = { base: { env: "cartpole", algo: "ppo", steps: 2048, seed: 1 }, space: { ppo: { learningRate: [1e-3, 3e-3] } }, population: 2, generations: 1, mutationRate: 0.2, crossoverRate: 0.9, elite: 1, seed: 1 };

  it("keeps the job, the state and the result exactly; lists without them; finishedAt follows the status", async () => {
    await createTuning(sql, { id: "t1", job, total: 4, createdById: "u1" });
    let row = (await getTuning(sql, "t1"))!;
    expect(row).toMatchObject({ id: "t1", status: "queued", job, generation: -1, done: 0, total: 4, error: null, createdById: "u1", hasState: false, hasResult: false, state: null, result: null, finishedAt: null });
    const state = { kind: "rl-tune", version: 1, generation: 0, rng: { s: [1, 2, 3, 4294967295], spare: null }, trials: [{ id: 0, hyperparams: { learningRate: 0.001 }, objectives: { label: "validation", evalReturn: 21.5 } }], partial: [] };
    await updateTuning(sql, "t1", { status: "running", state, generation: 0, done: 2 });
    row = (await getTuning(sql, "t1"))!;
    expect(row).toMatchObject({ status: "running", generation: 0, done: 2, hasState: true, hasResult: false, state, finishedAt: null });
    const result = { label: "validation", trials: state.trials, pareto: state.trials, stopped: false };
    await updateTuning(sql, "t1", { status: "done", result, generation: 1, done: 4 });
    row = (await getTuning(sql, "t1"))!;
    expect(row).toMatchObject({ status: "done", generation: 1, done: 4, hasResult: true, result });
    expect(row.finishedAt).not.toBeNull();
    const [listed] = await listTunings(sql);
    expect(listed).toMatchObject({ id: "t1", status: "done", hasState: true, hasResult: true, job });
    expect(listed).not.toHaveProperty("state");
    expect(listed).not.toHaveProperty("result");
  });

  it("marks queued and running searches stopped (resumable) after an engine restart, newest first in the list", async () => {
    await new Promise((r) => setTimeout(r, 5));
    await createTuning(sql, { id: "t2", job, total: 4 });
    await new Promise((r) => setTimeout(r, 5));
    await createTuning(sql, { id: "t3", job, total: 4, status: "running" });
    expect(await markInterruptedTunings(sql)).toBe(2);
    const rows = await listTunings(sql);
    expect(rows.map((r) => r.id)).toEqual(["t3", "t2", "t1"]);
    expect(rows.map((r) => r.status)).toEqual(["stopped", "stopped", "done"]);
    expect(rows[0]!.error).toMatch(/resume continues/);
    expect(await getTuning(sql, "nope")).toBeUndefined();
  });
});
