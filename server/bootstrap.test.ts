import { afterEach, describe, expect, it } from "vitest";
import { authenticate } from "@/server/auth/authenticate";
import { loginAttemptsRepo, usersRepo } from "@/server/db/users";
import { createTestDatabase, type TestDatabase } from "@/server/testing/databases";
import { ensureAdmin } from "./bootstrap";

let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

describe("ensureAdmin", () => {
  it("creates an admin with a random password once, only when no user exists", async () => {
    t = await createTestDatabase("sqlite");
    const users = usersRepo(t.db);
    const first = await ensureAdmin(users, {});
    expect(first.created).toBe(true);
    if (!first.created) return;
    expect(first.email).toBe("admin@tradeforge.local");
    expect(first.generatedPassword?.length).toBeGreaterThanOrEqual(16);
    const login = await authenticate({ users, attempts: loginAttemptsRepo(t.db) }, { email: first.email, password: first.generatedPassword!, ip: "127.0.0.1" });
    expect(login).toMatchObject({ ok: true, user: { role: "admin" } });
    expect(await ensureAdmin(users, {})).toEqual({ created: false });
    expect(await users.count()).toBe(1);
  });

  it("uses ADMIN_EMAIL / ADMIN_PASSWORD when given and prints no password", async () => {
    t = await createTestDatabase("sqlite");
    const users = usersRepo(t.db);
    const r = await ensureAdmin(users, { email: "ops@example.com", password: "s3cret-pass" });
    expect(r).toEqual({ created: true, email: "ops@example.com", generatedPassword: undefined });
    const login = await authenticate({ users, attempts: loginAttemptsRepo(t.db) }, { email: "ops@example.com", password: "s3cret-pass", ip: "127.0.0.1" });
    expect(login.ok).toBe(true);
  });
});
