import pg from "pg";
import { describe, expect, it } from "vitest";
import { createTestDatabase, databaseKinds } from "@/server/testing/databases";
import { openSql } from "./sql";

describe.skipIf(!databaseKinds().includes("postgresql"))("the PostgreSQL pool", () => {
  it("survives the server closing an idle connection, and the next query opens a new one", async () => {
    const t = await createTestDatabase("postgresql");
    const sql = openSql(t.url);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on("uncaughtException", onUncaught);
    try {
      const pid = (await sql.all<{ pid: number }>("SELECT pg_backend_pid() AS pid"))[0]!.pid;
      const admin = new pg.Client({ connectionString: t.url });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      await admin.end();
      await new Promise((r) => setTimeout(r, 300));
      expect(uncaught).toEqual([]);
      const rows = await sql.all<{ one: number }>("SELECT 1 AS one");
      expect(Number(rows[0]!.one)).toBe(1);
    } finally {
      process.off("uncaughtException", onUncaught);
      await sql.close();
      await t.dispose();
    }
  });
});
