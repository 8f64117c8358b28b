/**
 * The small SQL surface the bulk stores need, over better-sqlite3 (default) or
 * pg (PostgreSQL). Statements are written with `?` placeholders; the PostgreSQL
 * adapter numbers them. Bulk data never goes through Prisma row by row.
 */
import Database from "better-sqlite3";
import pg from "pg";
import { openSqliteWorker } from "./sql-worker";

export interface SqlExec {
  readonly kind: "sqlite" | "postgresql";
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
}

export interface Sql extends SqlExec {
  /**
   * Runs fn in one transaction on the executor it is given: everything or
   * nothing. On SQLite the connection is held for the whole transaction, so a
   * long import should use its own Sql (its own connection).
   */
  tx<T>(fn: (t: SqlExec) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Opens a connection. With { bulk: true } a SQLite connection runs on a worker
 * thread so that writes overlap with parsing (see sql-worker.ts); use it for
 * imports. PostgreSQL already writes concurrently, on the server.
 */
export function openSql(databaseUrl: string, opts: { bulk?: boolean } = {}): Sql {
  if (!databaseUrl.startsWith("file:")) return pgSql(databaseUrl);
  const path = databaseUrl.slice("file:".length);
  return opts.bulk ? openSqliteWorker(path) : sqliteSql(path);
}

function sqliteSql(path: string): Sql {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 15000");
  db.pragma("synchronous = NORMAL");
  // Bulk imports write tens of MB per transaction: a 64 MB page cache avoids spilling mid-transaction.
  db.pragma("cache_size = -65536");
  const cache = new Map<string, Database.Statement>();
  const stmt = (sql: string) => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      cache.set(sql, s);
    }
    return s;
  };
  const exec: SqlExec = {
    kind: "sqlite",
    async all<T>(sql: string, params: unknown[] = []) {
      return stmt(sql).all(...params) as T[];
    },
    async run(sql: string, params: unknown[] = []) {
      stmt(sql).run(...params);
    },
  };
  return {
    ...exec,
    async tx<T>(fn: (t: SqlExec) => Promise<T>): Promise<T> {
      db.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(exec);
        db.exec("COMMIT");
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec("ROLLBACK");
        throw err;
      }
    },
    async close() {
      db.close();
    },
  };
}

function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

function pgSql(url: string): Sql {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // An idle pooled connection closed by the server (a PostgreSQL restart, an administrator's
  // pg_terminate_backend, DROP DATABASE ... WITH (FORCE)) is reported here; without a listener
  // node-postgres rethrows it as an uncaught exception and the process dies. The pool has already
  // discarded that connection and opens a new one for the next query.
  pool.on("error", () => {});
  // BIGINT columns come back as strings by default; every BIGINT here is an epoch-ms or bucket that fits a double.
  pg.types.setTypeParser(20, (v) => Number(v));
  const execOn = (c: pg.Pool | pg.PoolClient): SqlExec => ({
    kind: "postgresql",
    async all<T>(sql: string, params: unknown[] = []) {
      return (await c.query(numbered(sql), params)).rows as T[];
    },
    async run(sql: string, params: unknown[] = []) {
      await c.query(numbered(sql), params);
    },
  });
  return {
    ...execOn(pool),
    async tx<T>(fn: (t: SqlExec) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(execOn(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
