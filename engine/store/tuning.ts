/**
 * Persistence of RL hyperparameter searches (engine/rl/tune): the validated
 * job, the resumable search state (saved after every generation), the result
 * (trials with their validation objectives, the Pareto front) and the
 * progress counters, through the Sql port (SQLite or PostgreSQL).
 *
 * `generation` is the last COMPLETED generation (-1 = none yet, 0 = the
 * initial population), as in the stored state; `done` / `total` count the
 * individuals settled over the whole search (population x (generations + 1)).
 */
import type { SqlExec } from "./sql";

export type TuningStatus = "queued" | "running" | "stopped" | "done" | "failed";

export interface TuningRow {
  id: string;
  status: TuningStatus;
  job: unknown;
  generation: number;
  done: number;
  total: number;
  error: string | null;
  createdById: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** A resumable state is stored. */
  hasState: boolean;
  /** A result (final, or up to a stop) is stored. */
  hasResult: boolean;
}

export type TuningDetail = TuningRow & { state: unknown; result: unknown };

const now = () => new Date().toISOString();
const parse = <T>(v: unknown): T | null => (typeof v === "string" && v.length ? (JSON.parse(v) as T) : null);
const dateStr = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : typeof v === "number" ? new Date(v).toISOString() : String(v));
const flag = (v: unknown) => Boolean(v) && v !== 0 && v !== "0" && v !== "f";

export async function createTuning(db: SqlExec, r: { id: string; job: unknown; total: number; status?: TuningStatus; createdById?: string | null }): Promise<void> {
  const t = now();
  await db.run(`INSERT INTO "RlTuning" ("id","status","job","generation","done","total","createdById","createdAt","updatedAt") VALUES (?,?,?,?,?,?,?,?,?)`, [
    r.id,
    r.status ?? "queued",
    JSON.stringify(r.job),
    -1,
    0,
    r.total,
    r.createdById ?? null,
    t,
    t,
  ]);
}

export interface TuningPatch {
  status?: TuningStatus;
  job?: unknown;
  state?: unknown;
  result?: unknown;
  generation?: number;
  done?: number;
  total?: number;
  error?: string | null;
}

export async function updateTuning(db: SqlExec, id: string, patch: TuningPatch): Promise<void> {
  const sets: string[] = [`"updatedAt"=?`];
  const params: unknown[] = [now()];
  const set = (col: string, v: unknown) => {
    sets.push(`"${col}"=?`);
    params.push(v);
  };
  if (patch.status !== undefined) {
    set("status", patch.status);
    set("finishedAt", patch.status === "running" || patch.status === "queued" ? null : now());
  }
  if (patch.job !== undefined) set("job", JSON.stringify(patch.job));
  if (patch.state !== undefined) set("state", patch.state === null ? null : JSON.stringify(patch.state));
  if (patch.result !== undefined) set("result", patch.result === null ? null : JSON.stringify(patch.result));
  if (patch.generation !== undefined) set("generation", patch.generation);
  if (patch.done !== undefined) set("done", patch.done);
  if (patch.total !== undefined) set("total", patch.total);
  if (patch.error !== undefined) set("error", patch.error === null ? null : patch.error.slice(0, 4000));
  params.push(id);
  await db.run(`UPDATE "RlTuning" SET ${sets.join(",")} WHERE "id"=?`, params);
}

function rowToTuning(r: Record<string, unknown>): TuningRow {
  return {
    id: String(r.id),
    status: r.status as TuningStatus,
    job: parse(r.job),
    generation: Number(r.generation),
    done: Number(r.done),
    total: Number(r.total),
    error: (r.error as string | null) ?? null,
    createdById: (r.createdById as string | null) ?? null,
    createdAt: dateStr(r.createdAt)!,
    updatedAt: dateStr(r.updatedAt)!,
    finishedAt: dateStr(r.finishedAt),
    hasState: flag(r.hasState),
    hasResult: flag(r.hasResult),
  };
}

const COLS = `"id","status","job","generation","done","total","error","createdById","createdAt","updatedAt","finishedAt",("state" IS NOT NULL) AS "hasState",("result" IS NOT NULL) AS "hasResult"`;

/** Newest first, without the (large) state and result. */
export async function listTunings(db: SqlExec, limit = 50): Promise<TuningRow[]> {
  const rows = await db.all(`SELECT ${COLS} FROM "RlTuning" ORDER BY "createdAt" DESC LIMIT ${Math.min(500, Math.max(1, Math.floor(limit)))}`);
  return rows.map(rowToTuning);
}

/** One search with its state and result (parsed JSON). */
export async function getTuning(db: SqlExec, id: string): Promise<TuningDetail | undefined> {
  const [r] = await db.all(`SELECT ${COLS},"state","result" FROM "RlTuning" WHERE "id" = ?`, [id]);
  if (!r) return undefined;
  return { ...rowToTuning(r), state: parse(r.state), result: parse(r.result) };
}

/** Searches left queued or running by a stopped engine become "stopped" (resumable from their last saved state). */
export async function markInterruptedTunings(db: SqlExec): Promise<number> {
  const rows = await db.all<{ id: string }>(`SELECT "id" FROM "RlTuning" WHERE "status" IN ('running','queued')`);
  for (const r of rows) await updateTuning(db, String(r.id), { status: "stopped", error: "the engine stopped during the search; resume continues from the last completed generation" });
  return rows.length;
}
