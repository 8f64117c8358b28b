/**
 * Persistence of training runs (configuration, curves, last checkpoint) and
 * the model registry (ONNX bytes plus what a model was trained and judged
 * on), through the Sql port (SQLite or PostgreSQL).
 */
import type { SqlExec } from "./sql";

export type TrainingStatus = "running" | "stopped" | "done" | "failed";

export interface TrainingRunRow {
  id: string;
  name: string;
  status: TrainingStatus;
  env: string;
  algo: string;
  seed: number;
  config: unknown;
  steps: number;
  totalSteps: number;
  summary: Record<string, unknown> | null;
  error: string | null;
  createdById: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  hasCheckpoint: boolean;
}

const now = () => new Date().toISOString();
const parse = <T>(v: unknown): T | null => (typeof v === "string" && v.length ? (JSON.parse(v) as T) : null);
const dateStr = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : typeof v === "number" ? new Date(v).toISOString() : String(v));
const bytes = (v: unknown): Buffer | null => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : null);

export async function createTrainingRun(db: SqlExec, r: { id: string; name: string; env: string; algo: string; seed: number; config: unknown; totalSteps: number; createdById?: string | null }): Promise<void> {
  const t = now();
  await db.run(`INSERT INTO "TrainingRun" ("id","name","status","env","algo","seed","config","steps","totalSteps","createdById","createdAt","updatedAt") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`, [
    r.id,
    r.name,
    "running",
    r.env,
    r.algo,
    r.seed,
    JSON.stringify(r.config),
    0,
    r.totalSteps,
    r.createdById ?? null,
    t,
    t,
  ]);
}

export async function updateTrainingRun(db: SqlExec, id: string, patch: { status?: TrainingStatus; steps?: number; curves?: unknown; summary?: unknown; checkpoint?: Uint8Array | null; error?: string | null }): Promise<void> {
  const sets: string[] = [`"updatedAt"=?`];
  const params: unknown[] = [now()];
  if (patch.status !== undefined) {
    sets.push(`"status"=?`);
    params.push(patch.status);
    sets.push(`"finishedAt"=?`);
    params.push(patch.status === "running" ? null : now());
  }
  if (patch.steps !== undefined) {
    sets.push(`"steps"=?`);
    params.push(patch.steps);
  }
  if (patch.curves !== undefined) {
    sets.push(`"curves"=?`);
    params.push(JSON.stringify(patch.curves));
  }
  if (patch.summary !== undefined) {
    sets.push(`"summary"=?`);
    params.push(JSON.stringify(patch.summary));
  }
  if (patch.checkpoint !== undefined) {
    sets.push(`"checkpoint"=?`);
    params.push(patch.checkpoint === null ? null : Buffer.from(patch.checkpoint.buffer, patch.checkpoint.byteOffset, patch.checkpoint.byteLength));
  }
  if (patch.error !== undefined) {
    sets.push(`"error"=?`);
    params.push(patch.error === null ? null : patch.error.slice(0, 4000));
  }
  params.push(id);
  await db.run(`UPDATE "TrainingRun" SET ${sets.join(",")} WHERE "id"=?`, params);
}

function rowToRun(r: Record<string, unknown>): TrainingRunRow {
  return {
    id: String(r.id),
    name: String(r.name),
    status: r.status as TrainingStatus,
    env: String(r.env),
    algo: String(r.algo),
    seed: Number(r.seed),
    config: parse(r.config),
    steps: Number(r.steps),
    totalSteps: Number(r.totalSteps),
    summary: parse(r.summary),
    error: (r.error as string | null) ?? null,
    createdById: (r.createdById as string | null) ?? null,
    createdAt: dateStr(r.createdAt)!,
    updatedAt: dateStr(r.updatedAt)!,
    finishedAt: dateStr(r.finishedAt),
    hasCheckpoint: Boolean(r.hasCheckpoint) && r.hasCheckpoint !== 0 && r.hasCheckpoint !== "0",
  };
}

const RUN_COLS = `"id","name","status","env","algo","seed","config","steps","totalSteps","summary","error","createdById","createdAt","updatedAt","finishedAt",("checkpoint" IS NOT NULL) AS "hasCheckpoint"`;

export async function listTrainingRuns(db: SqlExec, limit = 50): Promise<TrainingRunRow[]> {
  const rows = await db.all(`SELECT ${RUN_COLS} FROM "TrainingRun" ORDER BY "createdAt" DESC LIMIT ${Math.min(500, Math.max(1, limit))}`);
  return rows.map(rowToRun);
}

export async function getTrainingRun(db: SqlExec, id: string): Promise<(TrainingRunRow & { curves: unknown }) | undefined> {
  const [r] = await db.all(`SELECT ${RUN_COLS},"curves" FROM "TrainingRun" WHERE "id" = ?`, [id]);
  if (!r) return undefined;
  return { ...rowToRun(r), curves: parse(r.curves) };
}

export async function getTrainingCheckpoint(db: SqlExec, id: string): Promise<Buffer | null> {
  const [r] = await db.all<{ checkpoint: unknown }>(`SELECT "checkpoint" FROM "TrainingRun" WHERE "id" = ?`, [id]);
  return r ? bytes(r.checkpoint) : null;
}

/** Runs left "running" by a stopped engine become "stopped" (resumable from their checkpoint). */
export async function markInterruptedRuns(db: SqlExec): Promise<number> {
  const rows = await db.all<{ id: string }>(`SELECT "id" FROM "TrainingRun" WHERE "status" = 'running'`);
  for (const r of rows) await updateTrainingRun(db, String(r.id), { status: "stopped", error: "the engine stopped during training; resume continues from the last checkpoint" });
  return rows.length;
}

// ------------------------------------------------------------------ model registry

export interface ModelRow {
  id: string;
  name: string;
  runId: string | null;
  algo: string;
  env: string;
  hyperparams: unknown;
  featureSpec: unknown;
  dataSpans: unknown;
  seed: number;
  metrics: unknown;
  codeVersion: string;
  onnxBytes: number;
  createdById: string | null;
  createdAt: string;
}

export async function saveModel(
  db: SqlExec,
  m: { id: string; name: string; runId: string | null; algo: string; env: string; hyperparams: unknown; featureSpec: unknown; dataSpans: unknown; seed: number; metrics: unknown; codeVersion: string; onnx: Uint8Array; createdById?: string | null },
): Promise<void> {
  await db.run(`INSERT INTO "Model" ("id","name","runId","algo","env","hyperparams","featureSpec","dataSpans","seed","metrics","codeVersion","onnx","createdById","createdAt") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, [
    m.id,
    m.name,
    m.runId,
    m.algo,
    m.env,
    JSON.stringify(m.hyperparams),
    JSON.stringify(m.featureSpec ?? null),
    JSON.stringify(m.dataSpans ?? null),
    m.seed,
    JSON.stringify(m.metrics ?? null),
    m.codeVersion,
    Buffer.from(m.onnx.buffer, m.onnx.byteOffset, m.onnx.byteLength),
    m.createdById ?? null,
    now(),
  ]);
}

const MODEL_COLS = `"id","name","runId","algo","env","hyperparams","featureSpec","dataSpans","seed","metrics","codeVersion","createdById","createdAt",LENGTH("onnx") AS "onnxBytes"`;

function rowToModel(r: Record<string, unknown>): ModelRow {
  return {
    id: String(r.id),
    name: String(r.name),
    runId: (r.runId as string | null) ?? null,
    algo: String(r.algo),
    env: String(r.env),
    hyperparams: parse(r.hyperparams),
    featureSpec: parse(r.featureSpec),
    dataSpans: parse(r.dataSpans),
    seed: Number(r.seed),
    metrics: parse(r.metrics),
    codeVersion: String(r.codeVersion),
    onnxBytes: Number(r.onnxBytes),
    createdById: (r.createdById as string | null) ?? null,
    createdAt: dateStr(r.createdAt)!,
  };
}

export async function listModels(db: SqlExec, limit = 100): Promise<ModelRow[]> {
  const rows = await db.all(`SELECT ${MODEL_COLS} FROM "Model" ORDER BY "createdAt" DESC LIMIT ${Math.min(500, Math.max(1, limit))}`);
  return rows.map(rowToModel);
}

export async function getModel(db: SqlExec, id: string): Promise<(ModelRow & { onnx: Buffer }) | undefined> {
  const [r] = await db.all(`SELECT ${MODEL_COLS},"onnx" FROM "Model" WHERE "id" = ?`, [id]);
  if (!r) return undefined;
  return { ...rowToModel(r), onnx: bytes(r.onnx)! };
}

export async function deleteModel(db: SqlExec, id: string): Promise<void> {
  await db.run(`DELETE FROM "Model" WHERE "id" = ?`, [id]);
}
