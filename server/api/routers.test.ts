import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBus } from "@/engine/events";
import { TEST_SECRET, startTestEngine } from "@/engine/testing";
import { loadEnv } from "@/engine/runtime/env";
import { createCaller } from "@/server/api/root";
import { createContextInner } from "@/server/api/trpc";
import { hashPassword } from "@/server/auth/password";
import type { Role } from "@/server/auth/roles";
import type { UserRecord } from "@/server/db/users";
import { type ServerDeps, createServerDeps } from "@/server/deps";
import { createTestDatabase, databaseKinds, type TestDatabase } from "@/server/testing/databases";

async function trpcCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
  return "OK";
}

describe.each(databaseKinds())("tRPC routers on %s", (kind) => {
  let tdb: TestDatabase;
  let deps: ServerDeps;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const users: Partial<Record<Role, UserRecord>> = {};

  beforeAll(async () => {
    tdb = await createTestDatabase(kind);
    engine = await startTestEngine({ bus: new EventBus(8, 1) });
    const env = loadEnv({ DATABASE_URL: tdb.url, DATA_DIR: "/tmp/tf-routers-test", ENGINE_URL: engine.url, ENGINE_SECRET: TEST_SECRET });
    deps = { ...createServerDeps(env, tdb.db), engineSecret: TEST_SECRET };
    for (const role of ["viewer", "trader", "approver", "admin"] as const) {
      users[role] = await deps.users.create({ email: `${role}@example.com`, passwordHash: await hashPassword("password-123", 4), role });
    }
  });
  afterAll(async () => {
    await engine.close();
    await tdb.dispose();
  });

  const as = async (role: Role | null) => createCaller(await createContextInner(deps, role ? users[role]!.id : null));

  it("health.check is public and reports the database", async () => {
    const res = await (await as(null)).health.check();
    expect(res).toMatchObject({ status: "ok", db: "ok" });
  });

  it("every other procedure needs a session (UNAUTHORIZED)", async () => {
    const anon = await as(null);
    expect(await trpcCode(anon.users.me())).toBe("UNAUTHORIZED");
    expect(await trpcCode(anon.users.changePassword({ currentPassword: "a", newPassword: "password-123" }))).toBe("UNAUTHORIZED");
    expect(await trpcCode(anon.users.list())).toBe("UNAUTHORIZED");
    expect(await trpcCode(anon.users.create({ email: "x@example.com", password: "password-123", role: "viewer" }))).toBe("UNAUTHORIZED");
    expect(await trpcCode(anon.engine.status())).toBe("UNAUTHORIZED");
    expect(await trpcCode(anon.engine.command({ type: "ping" }))).toBe("UNAUTHORIZED");
  });

  it("checks roles: user management and engine commands are admin only (FORBIDDEN)", async () => {
    for (const role of ["viewer", "trader", "approver"] as const) {
      const c = await as(role);
      expect(await trpcCode(c.users.list())).toBe("FORBIDDEN");
      expect(await trpcCode(c.users.setDisabled({ id: users.viewer!.id, disabled: true }))).toBe("FORBIDDEN");
      expect(await trpcCode(c.engine.command({ type: "ping" }))).toBe("FORBIDDEN");
      expect((await c.users.me()).role).toBe(role);
      expect((await c.engine.status()).online).toBe(true);
    }
    const admin = await as("admin");
    expect((await admin.users.list()).map((u) => u.email)).toEqual(expect.arrayContaining(["admin@example.com", "viewer@example.com"]));
    expect(await admin.engine.command({ type: "ping", nonce: "n1" })).toMatchObject({ type: "pong", nonce: "n1" });
  });

  it("returns flattened field errors for malformed input", async () => {
    const admin = await as("admin");
    try {
      await admin.users.create({ email: "not-an-email", password: "short", role: "viewer" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TRPCError);
      expect((err as TRPCError).code).toBe("BAD_REQUEST");
      // The formatter output is what the client receives; build it the way tRPC does.
      const { getErrorShape } = await import("@trpc/server/unstable-core-do-not-import");
      const { appRouter } = await import("@/server/api/root");
      const shape = getErrorShape({ config: appRouter._def._config, error: err as TRPCError, type: "mutation", path: "users.create", input: undefined, ctx: undefined });
      const fieldErrors = (shape.data as { zodError: { fieldErrors: Record<string, string[]> } }).zodError.fieldErrors;
      expect(fieldErrors.email).toEqual(["Enter a valid email address."]);
      expect(fieldErrors.password).toEqual(["Use at least 8 characters."]);
      expect(fieldErrors.role).toBeUndefined();
    }
    expect(await trpcCode(admin.users.create({ email: "a@b.co", password: "password-123", role: "superuser" as Role }))).toBe("BAD_REQUEST");
  });

  it("lets admins create, disable and re-enable users; disabled users lose their session at once", async () => {
    const admin = await as("admin");
    const created = await admin.users.create({ email: "New.Trader@Example.com", password: "password-123", role: "trader" });
    expect(created).toMatchObject({ email: "new.trader@example.com", role: "trader", disabled: false });
    expect(Object.keys(created)).not.toContain("passwordHash");
    expect(await trpcCode(admin.users.create({ email: "new.trader@example.com", password: "password-123", role: "viewer" }))).toBe("CONFLICT");

    const ctxBefore = await createContextInner(deps, created.id);
    expect(ctxBefore.user?.email).toBe("new.trader@example.com");
    await admin.users.setDisabled({ id: created.id, disabled: true });
    const ctxAfter = await createContextInner(deps, created.id);
    expect(ctxAfter.user).toBeNull();
    expect(await trpcCode(createCaller(ctxAfter).users.me())).toBe("UNAUTHORIZED");
    await admin.users.setDisabled({ id: created.id, disabled: false });
    expect((await createContextInner(deps, created.id)).user?.id).toBe(created.id);

    await admin.users.setRole({ id: created.id, role: "approver" });
    expect((await (await createCaller(await createContextInner(deps, created.id))).users.me()).role).toBe("approver");
  });

  it("lets a user change their own password (proving the old one) and an admin reset anyone's", async () => {
    const { authenticate } = await import("@/server/auth/authenticate");
    const login = (email: string, password: string) => authenticate({ users: deps.users, attempts: deps.attempts }, { email, password, ip: `10.77.0.${Math.floor(Math.random() * 200)}` });
    const viewer = await as("viewer");
    expect(await trpcCode(viewer.users.changePassword({ currentPassword: "wrong-one", newPassword: "brand-new-pass" }))).toBe("BAD_REQUEST");
    expect(await trpcCode(viewer.users.changePassword({ currentPassword: "password-123", newPassword: "short" }))).toBe("BAD_REQUEST");
    await viewer.users.changePassword({ currentPassword: "password-123", newPassword: "brand-new-pass" });
    expect((await login("viewer@example.com", "brand-new-pass")).ok).toBe(true);
    expect((await login("viewer@example.com", "password-123")).ok).toBe(false);
    expect(await trpcCode(viewer.users.resetPassword({ id: users.trader!.id, newPassword: "whatever-123" }))).toBe("FORBIDDEN");
    await (await as("admin")).users.resetPassword({ id: users.viewer!.id, newPassword: "password-123" });
    expect((await login("viewer@example.com", "password-123")).ok).toBe(true);
  });

  it("protects the admin's own account and the last admin", async () => {
    const admin = await as("admin");
    expect(await trpcCode(admin.users.setDisabled({ id: users.admin!.id, disabled: true }))).toBe("BAD_REQUEST");
    expect(await trpcCode(admin.users.setRole({ id: users.admin!.id, role: "viewer" }))).toBe("BAD_REQUEST");
    expect(await trpcCode(admin.users.setDisabled({ id: "no-such-id", disabled: true }))).toBe("NOT_FOUND");
  });

  it("reports the engine offline instead of failing when it is unreachable", async () => {
    const offline: ServerDeps = { ...deps, env: { ...deps.env, engineUrl: "http://127.0.0.1:9" } };
    const c = createCaller(await createContextInner(offline, users.viewer!.id));
    expect(await c.engine.status()).toMatchObject({ online: false });
    const adminC = createCaller(await createContextInner(offline, users.admin!.id));
    expect(await trpcCode(adminC.engine.command({ type: "status" }))).toBe("SERVICE_UNAVAILABLE");
  });
});
