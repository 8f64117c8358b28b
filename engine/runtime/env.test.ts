import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EnvError, loadEnv, redactUrl, resolveSecret } from "./env";

describe("loadEnv", () => {
  it("defaults to a SQLite file under ./data and the standard ports", () => {
    const env = loadEnv({}, "/srv/app");
    expect(env).toMatchObject({ dataDir: "/srv/app/data", databaseUrl: "file:/srv/app/data/tradeforge.db", databaseKind: "sqlite", port: 3000, enginePort: 3001, engineUrl: "http://127.0.0.1:3001" });
  });

  it("accepts PostgreSQL URLs and makes relative SQLite paths absolute", () => {
    expect(loadEnv({ DATABASE_URL: "postgresql://u:p@db:5432/tf" }).databaseKind).toBe("postgresql");
    expect(loadEnv({ DATABASE_URL: "file:./x.db" }, "/srv").databaseUrl).toBe("file:/srv/x.db");
    expect(loadEnv({ ENGINE_PORT: "4001" }).engineUrl).toBe("http://127.0.0.1:4001");
  });

  it.each([
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL", /is not a URL/],
    [{ DATABASE_URL: "mysql://x@y/z" }, "DATABASE_URL", /unsupported scheme/],
    [{ PORT: "http" }, "PORT", /TCP port/],
    [{ ENGINE_PORT: "70000" }, "ENGINE_PORT", /TCP port/],
    [{ ENGINE_SECRET: "short" }, "ENGINE_SECRET", /at least 32/],
    [{ ADMIN_EMAIL: "root" }, "ADMIN_EMAIL", /email/],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL", /./],
  ])("stops with a message naming the variable for %o", (source, variable, message) => {
    try {
      loadEnv(source as Record<string, string>);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EnvError);
      const e = err as EnvError;
      expect(e.issues[0]?.variable).toBe(variable);
      expect(e.issues[0]?.message).toMatch(message);
      expect(e.message).toContain(`${variable}:`);
      expect(e.message).not.toContain("short"); // never echo a secret's value
    }
  });

  it("redacts passwords from URLs for logs", () => {
    expect(redactUrl("postgresql://user:hunter2@db:5432/tf")).toBe("postgresql://user:***@db:5432/tf");
    expect(redactUrl("file:/data/x.db")).toBe("file:/data/x.db");
  });
});

describe("resolveSecret", () => {
  it("generates a secret file once (mode 600) and reuses it; the variable wins when set", () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-secret-"));
    const a = resolveSecret("engine", dir, {});
    const b = resolveSecret("engine", dir, {});
    expect(a).toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(join(dir, "engine.secret"), "utf8").trim()).toBe(a);
    expect(statSync(join(dir, "engine.secret")).mode & 0o777).toBe(0o600);
    const fromEnv = "x".repeat(40);
    expect(resolveSecret("engine", dir, { ENGINE_SECRET: fromEnv })).toBe(fromEnv);
    expect(resolveSecret("auth", dir, {})).not.toBe(a);
  });
});
