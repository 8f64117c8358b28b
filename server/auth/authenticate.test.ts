import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "@/server/auth/password";
import { loginAttemptsRepo, usersRepo } from "@/server/db/users";
import { createTestDatabase, databaseKinds, type TestDatabase } from "@/server/testing/databases";
import { THROTTLE, authErrorMessage, authenticate, type AuthDeps } from "./authenticate";

describe.each(databaseKinds())("authenticate on %s", (kind) => {
  let tdb: TestDatabase;
  let deps: AuthDeps;
  let now = new Date("2026-03-02T10:00:00Z");
  const advance = (ms: number) => (now = new Date(now.getTime() + ms));

  beforeAll(async () => {
    tdb = await createTestDatabase(kind);
    deps = { users: usersRepo(tdb.db), attempts: loginAttemptsRepo(tdb.db), now: () => now };
    for (const email of ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]) {
      await deps.users.create({ email, passwordHash: await hashPassword("correct-horse", 4), role: "trader" });
    }
  });
  afterAll(() => tdb.dispose());

  it("signs in with the right password, case-insensitively on the email, and records the login", async () => {
    const r = await authenticate(deps, { email: " Alice@Example.com ", password: "correct-horse", ip: "10.0.0.1" });
    expect(r).toMatchObject({ ok: true, user: { email: "alice@example.com", role: "trader" } });
    if (r.ok) {
      expect(Object.keys(r.user)).not.toContain("passwordHash");
      expect((await deps.users.findById(r.user.id))?.lastLoginAt?.toISOString()).toBe(now.toISOString());
    }
  });

  it("gives the same answer for an unknown account and a wrong password", async () => {
    const unknown = await authenticate(deps, { email: "nobody@example.com", password: "correct-horse", ip: "10.0.0.2" });
    const wrong = await authenticate(deps, { email: "alice@example.com", password: "wrong", ip: "10.0.0.2" });
    expect(unknown).toEqual({ ok: false, reason: "invalid" });
    expect(wrong).toEqual({ ok: false, reason: "invalid" });
    expect(authErrorMessage("invalid")).toBe("Wrong email or password.");
  });

  it("refuses further tries for an account after 5 failures in 15 minutes, from any address, until they age out", async () => {
    for (let i = 0; i < THROTTLE.maxFailures; i++) {
      advance(1000);
      expect(await authenticate(deps, { email: "bob@example.com", password: "nope", ip: `10.1.0.${i}` })).toMatchObject({ reason: "invalid" });
    }
    advance(1000);
    const refused = await authenticate(deps, { email: "bob@example.com", password: "correct-horse", ip: "10.9.9.9" });
    expect(refused).toMatchObject({ ok: false, reason: "throttled" });
    if (!refused.ok && refused.reason === "throttled") {
      // First failure was 5 s before now; it leaves the window 15 min after it happened.
      expect(refused.retryAfterS).toBe(15 * 60 - 5);
      expect(authErrorMessage(`throttled:${refused.retryAfterS}`)).toMatch(/Too many failed sign-in attempts.*15 minutes/);
    }
    // Other accounts are not affected.
    expect(await authenticate(deps, { email: "carol@example.com", password: "correct-horse", ip: "10.9.9.9" })).toMatchObject({ ok: true });
    advance(THROTTLE.windowMs);
    expect(await authenticate(deps, { email: "bob@example.com", password: "correct-horse", ip: "10.9.9.9" })).toMatchObject({ ok: true });
  });

  it("refuses an address after 5 failures across accounts", async () => {
    advance(THROTTLE.windowMs + 1000);
    for (let i = 0; i < THROTTLE.maxFailures; i++) {
      await authenticate(deps, { email: `guess${i}@example.com`, password: "x", ip: "192.0.2.7" });
    }
    expect(await authenticate(deps, { email: "dave@example.com", password: "correct-horse", ip: "192.0.2.7" })).toMatchObject({ reason: "throttled" });
    expect(await authenticate(deps, { email: "dave@example.com", password: "correct-horse", ip: "192.0.2.8" })).toMatchObject({ ok: true });
  });

  it("tells a disabled user (with the right password) that the account is disabled", async () => {
    advance(THROTTLE.windowMs + 1000);
    const u = await deps.users.findByEmailWithHash("carol@example.com");
    await deps.users.update(u!.id, { disabled: true });
    expect(await authenticate(deps, { email: "carol@example.com", password: "correct-horse", ip: "10.3.0.1" })).toEqual({ ok: false, reason: "disabled" });
    expect(await authenticate(deps, { email: "carol@example.com", password: "bad", ip: "10.3.0.1" })).toEqual({ ok: false, reason: "invalid" });
  });
});
