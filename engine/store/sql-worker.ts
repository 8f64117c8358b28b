/**
 * A SQLite connection on a worker thread, for bulk imports: writes are
 * pipelined (run() returns at once; the worker executes while the main thread
 * goes on parsing), reads wait for their answer, and every statement runs on
 * the one worker connection in order, so reads see this transaction's own
 * writes. A failed write makes the next read or the commit fail.
 */
import { Worker } from "node:worker_threads";
import type { Sql, SqlExec } from "./sql";

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma("journal_mode = WAL");
db.pragma("busy_timeout = 15000");
db.pragma("synchronous = NORMAL");
db.pragma("cache_size = -4096");
const cache = new Map();
const stmt = (sql) => { let s = cache.get(sql); if (!s) { s = db.prepare(sql); cache.set(sql, s); } return s; };
let failed = null;
parentPort.on("message", (m) => {
  try {
    if (m.op === "exec") {
      if (m.sql === "ROLLBACK") { failed = null; if (db.inTransaction) db.exec("ROLLBACK"); parentPort.postMessage({ id: m.id, ok: true }); return; }
      if (failed) throw failed;
      db.exec(m.sql);
      parentPort.postMessage({ id: m.id, ok: true });
    } else if (m.op === "run") {
      if (failed) return;
      try { stmt(m.sql).run(...m.params); } catch (e) { failed = e; }
    } else if (m.op === "all") {
      if (failed) throw failed;
      parentPort.postMessage({ id: m.id, rows: stmt(m.sql).all(...m.params) });
    } else if (m.op === "close") {
      db.close();
      parentPort.postMessage({ id: m.id, ok: true });
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
  }
});
`;

export function openSqliteWorker(path: string): Sql {
  // An eval'd worker resolves packages from the working directory (the project
  // root for every entry point), which also works inside the Next.js bundle.
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver: "better-sqlite3" } });
  let seq = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let dead: Error | null = null;
  worker.on("message", (m: { id: number; error?: string; rows?: unknown[]; ok?: boolean }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.rows ?? true);
  });
  worker.on("error", (err) => {
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  const call = (op: string, sql: string, params: unknown[] = []) =>
    new Promise<unknown>((resolve, reject) => {
      if (dead) return reject(dead);
      const id = ++seq;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, sql, params });
    });
  // Backpressure: after this many queued writes, wait for the worker to catch
  // up, so a fast parser cannot pile a large file's chunks up in memory.
  const MAX_QUEUED = 64;
  let queued = 0;
  const exec: SqlExec = {
    kind: "sqlite",
    async all<T>(sql: string, params: unknown[] = []) {
      return (await call("all", sql, params)) as T[];
    },
    async run(sql: string, params: unknown[] = []) {
      if (dead) throw dead;
      // Large byte parameters are moved, not copied, to the worker.
      const transfer = params.filter((p): p is Uint8Array => p instanceof Uint8Array && p.byteOffset === 0 && p.byteLength === p.buffer.byteLength && p.byteLength > 4096).map((p) => p.buffer as ArrayBuffer);
      worker.postMessage({ id: 0, op: "run", sql, params }, transfer);
      if (++queued >= MAX_QUEUED) {
        queued = 0;
        await call("all", "SELECT 1");
      }
    },
  };
  return {
    ...exec,
    async tx<T>(fn: (t: SqlExec) => Promise<T>): Promise<T> {
      await call("exec", "BEGIN IMMEDIATE");
      try {
        const result = await fn(exec);
        await call("exec", "COMMIT");
        return result;
      } catch (err) {
        await call("exec", "ROLLBACK").catch(() => undefined);
        throw err;
      }
    },
    async close() {
      await call("close", "").catch(() => undefined);
      await worker.terminate();
    },
  };
}
