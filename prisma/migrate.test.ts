import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createTestDatabase, databaseKinds } from "@/server/testing/databases";
import { MigrationError, loadMigrations, migrate } from "./migrate";

const here = dirname(fileURLToPath(import.meta.url));

describe("migrate (SQLite)", () => {
  it("applies every migration once and is a no-op the second time", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-mig-"));
    const url = `file:${join(dir, "db", "app.db")}`;
    const first = await migrate(url);
    expect(first.applied).toEqual(loadMigrations("sqlite").map((m) => m.name));
    expect((await migrate(url)).applied).toEqual([]);
    const db = new Database(url.slice(5));
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type='table' ORDER BY name`).all() as { name: string }[];
    db.close();
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["User", "LoginAttempt", "_migrations"]));
  });

  it("refuses to start when an applied migration file was edited, naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-mig-"));
    const root = join(dir, "migrations");
    cpSync(join(here, "migrations"), root, { recursive: true });
    const url = `file:${join(dir, "app.db")}`;
    await migrate(url, root);
    writeFileSync(join(root, "sqlite", "0001_init.sql"), "-- edited\n");
    await expect(migrate(url, root)).rejects.toThrow(MigrationError);
    await expect(migrate(url, root)).rejects.toThrow(/0001_init\.sql was changed/);
  });

  it("rolls back a failing migration and names it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-mig-"));
    const root = join(dir, "migrations");
    cpSync(join(here, "migrations"), root, { recursive: true });
    writeFileSync(join(root, "sqlite", "9999_broken.sql"), `CREATE TABLE "Half" ("id" TEXT);\nTHIS IS NOT SQL;`);
    const url = `file:${join(dir, "app.db")}`;
    await expect(migrate(url, root)).rejects.toThrow(/9999_broken\.sql failed/);
    const db = new Database(url.slice(5));
    const half = db.prepare(`SELECT name FROM sqlite_master WHERE name='Half'`).all();
    const users = db.prepare(`SELECT name FROM sqlite_master WHERE name='User'`).all();
    db.close();
    expect(half).toEqual([]); // the whole run is one transaction
    expect(users).toEqual([]);
  });
});

describe.each(databaseKinds())("schema round trip through Prisma on %s", (kind) => {
  it("stores and reads every model the migrations create", async () => {
    const t = await createTestDatabase(kind);
    try {
      const u = await t.db.user.create({ data: { id: "u1", email: "a@b.co", passwordHash: "h", role: "viewer" } });
      expect(u.disabled).toBe(false);
      expect(u.createdAt).toBeInstanceOf(Date);
      await t.db.loginAttempt.create({ data: { email: "a@b.co", ip: "127.0.0.1", success: false, reason: "invalid" } });
      expect(await t.db.loginAttempt.count({ where: { email: "a@b.co" } })).toBe(1);
      await expect(t.db.user.create({ data: { id: "u2", email: "a@b.co", passwordHash: "h", role: "viewer" } })).rejects.toMatchObject({ code: "P2002" });
      expect((await migrate(t.url)).applied).toEqual([]);
    } finally {
      await t.dispose();
    }
  });
});
