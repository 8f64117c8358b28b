/**
 * Applies the SQL migrations in prisma/migrations/<provider>/ in file-name
 * order, each once, each in its own transaction. Runs offline (no Prisma
 * schema engine) and is safe to call from the launcher and the engine at the
 * same time: SQLite takes an immediate write lock, PostgreSQL an advisory lock.
 * An applied migration whose file has since changed stops start-up, naming it.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  total: number;
}

const MIGRATIONS_ROOT = join(dirname(fileURLToPath(import.meta.url)), "migrations");
const LOCK_KEY = 7_311_042_019; // arbitrary, fixed advisory-lock key for this project

export function loadMigrations(kind: "sqlite" | "postgresql", root = MIGRATIONS_ROOT): Migration[] {
  const dir = join(root, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

function checkApplied(migrations: Migration[], applied: Map<string, string>): void {
  for (const [name, checksum] of applied) {
    const m = migrations.find((x) => x.name === name);
    if (!m) throw new MigrationError(`database has migration ${name}, which this version does not know (is the code older than the database?)`);
    if (m.checksum !== checksum) throw new MigrationError(`migration ${name} was changed after it was applied; restore the original file`);
  }
}

export async function migrate(databaseUrl: string, root = MIGRATIONS_ROOT): Promise<MigrateResult> {
  if (databaseUrl.startsWith("file:")) return migrateSqlite(databaseUrl.slice("file:".length), loadMigrations("sqlite", root));
  return migratePostgres(databaseUrl, loadMigrations("postgresql", root));
}

function migrateSqlite(path: string, migrations: Migration[]): MigrateResult {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 10000");
    db.exec(`CREATE TABLE IF NOT EXISTS "_migrations" ("name" TEXT PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TEXT NOT NULL)`);
    const applied: string[] = [];
    const run = db.transaction(() => {
      const rows = db.prepare(`SELECT "name", "checksum" FROM "_migrations"`).all() as { name: string; checksum: string }[];
      const done = new Map(rows.map((r) => [r.name, r.checksum]));
      checkApplied(migrations, done);
      for (const m of migrations) {
        if (done.has(m.name)) continue;
        try {
          db.exec(m.sql);
        } catch (err) {
          throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
        }
        db.prepare(`INSERT INTO "_migrations" ("name", "checksum", "appliedAt") VALUES (?, ?, ?)`).run(m.name, m.checksum, new Date().toISOString());
        applied.push(m.name);
      }
    });
    run.immediate();
    return { applied, total: migrations.length };
  } finally {
    db.close();
  }
}

async function migratePostgres(url: string, migrations: Migration[]): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS "_migrations" ("name" TEXT PRIMARY KEY, "checksum" TEXT NOT NULL, "appliedAt" TIMESTAMPTZ NOT NULL)`);
    const { rows } = await client.query<{ name: string; checksum: string }>(`SELECT "name", "checksum" FROM "_migrations"`);
    const done = new Map(rows.map((r) => [r.name, r.checksum]));
    checkApplied(migrations, done);
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query(`INSERT INTO "_migrations" ("name", "checksum", "appliedAt") VALUES ($1, $2, now())`, [m.name, m.checksum]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.name);
    }
    return { applied, total: migrations.length };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}
