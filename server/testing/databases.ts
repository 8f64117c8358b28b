/**
 * Real databases for integration tests: always a fresh SQLite file; also a
 * fresh PostgreSQL database when TEST_POSTGRES_URL is set (skipped with a
 * printed notice when it is not).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createDb, type Db } from "@/prisma/db";
import { migrate } from "@/prisma/migrate";

export interface TestDatabase {
  kind: "sqlite" | "postgresql";
  url: string;
  db: Db;
  dispose(): Promise<void>;
}

export const postgresUrl = process.env.TEST_POSTGRES_URL || undefined;
let noticePrinted = false;

export function databaseKinds(): ("sqlite" | "postgresql")[] {
  if (!postgresUrl && !noticePrinted) {
    noticePrinted = true;
    console.log("[notice] TEST_POSTGRES_URL is not set: PostgreSQL integration tests are skipped (SQLite ones run).");
  }
  return postgresUrl ? ["sqlite", "postgresql"] : ["sqlite"];
}

export async function createTestDatabase(kind: "sqlite" | "postgresql"): Promise<TestDatabase> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "tf-test-"));
    const url = `file:${join(dir, "test.db")}`;
    await migrate(url);
    const db = createDb(url);
    return {
      kind,
      url,
      db,
      async dispose() {
        await db.$disconnect();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!postgresUrl) throw new Error("TEST_POSTGRES_URL is not set");
  const name = `tf_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(postgresUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  await migrate(url);
  const db = createDb(url);
  return {
    kind,
    url,
    db,
    async dispose() {
      await db.$disconnect();
      const c = new pg.Client({ connectionString: postgresUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
