/**
 * Environment configuration shared by the launcher, the web app and the engine.
 * Every variable is documented in README.md. A bad value stops start-up with a
 * message naming the variable; secrets never appear in those messages.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";

const port = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 65535) {
        ctx.addIssue({ code: "custom", message: `must be a TCP port between 1 and 65535, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === "" ? undefined : v))
  .refine((v) => v === undefined || v.length >= 32, { message: "must be at least 32 characters long" });

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).optional(),
  DATA_DIR: z.string().optional(),
  DATABASE_URL: z
    .string()
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .superRefine((v, ctx) => {
      if (v === undefined) return;
      if (v.startsWith("file:")) {
        if (v.length <= "file:".length) ctx.addIssue({ code: "custom", message: "file: URL needs a path, e.g. file:./data/app.db" });
        return;
      }
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        ctx.addIssue({ code: "custom", message: "is not a URL (expected file:/path/to.db or postgresql://user@host:5432/db)" });
        return;
      }
      if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") {
        ctx.addIssue({ code: "custom", message: `unsupported scheme "${url.protocol}" (expected file: or postgresql:)` });
      }
    }),
  PORT: port(3000),
  APP_HOST: z.string().optional(),
  ENGINE_PORT: port(3001),
  ENGINE_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || URL.canParse(v), { message: "is not a URL (expected http://127.0.0.1:3001)" }),
  ENGINE_SECRET: optionalSecret,
  AUTH_SECRET: optionalSecret,
  ADMIN_EMAIL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || z.email().safeParse(v).success, { message: "is not an email address" }),
  ADMIN_PASSWORD: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || v.length >= 8, { message: "must be at least 8 characters long" }),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  METRICS_TOKEN: optionalSecret,
  TRUST_PROXY: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || ["1", "0", "true", "false"].includes(v), { message: 'must be "true" or "false"' }),
});

/** Environment variables to read (process.env by default). */
export type EnvSource = Record<string, string | undefined>;

export type DatabaseKind = "sqlite" | "postgresql";

export interface AppEnv {
  dataDir: string;
  databaseUrl: string;
  databaseKind: DatabaseKind;
  port: number;
  hostname: string;
  enginePort: number;
  engineUrl: string;
  logLevel: string;
  adminEmail?: string;
  adminPassword?: string;
  metricsToken?: string;
  /** Trust X-Forwarded-For from a reverse proxy in front of the web app. */
  trustProxy: boolean;
}

export class EnvError extends Error {
  constructor(public readonly issues: { variable: string; message: string }[]) {
    super(
      "Invalid environment configuration:\n" +
        issues.map((i) => `  ${i.variable}: ${i.message}`).join("\n") +
        "\nSee the environment variable table in README.md.",
    );
    this.name = "EnvError";
  }
}

/** Parses and validates the environment. Throws EnvError naming each bad variable. */
export function loadEnv(source: EnvSource = process.env, cwd = process.cwd()): AppEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new EnvError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? "?"), message: i.message })),
    );
  }
  const e = parsed.data;
  const dataDir = resolve(cwd, e.DATA_DIR && e.DATA_DIR !== "" ? e.DATA_DIR : "data");
  const databaseUrl = normaliseDatabaseUrl(e.DATABASE_URL ?? `file:${join(dataDir, "tradeforge.db")}`, cwd);
  return {
    dataDir,
    databaseUrl,
    databaseKind: databaseUrl.startsWith("file:") ? "sqlite" : "postgresql",
    port: e.PORT,
    hostname: e.APP_HOST && e.APP_HOST !== "" ? e.APP_HOST : "0.0.0.0",
    enginePort: e.ENGINE_PORT,
    engineUrl: e.ENGINE_URL && e.ENGINE_URL !== "" ? e.ENGINE_URL.replace(/\/$/, "") : `http://127.0.0.1:${e.ENGINE_PORT}`,
    logLevel: e.LOG_LEVEL ?? "info",
    adminEmail: e.ADMIN_EMAIL || undefined,
    adminPassword: e.ADMIN_PASSWORD || undefined,
    metricsToken: e.METRICS_TOKEN,
    trustProxy: e.TRUST_PROXY === "1" || e.TRUST_PROXY === "true",
  };
}

/** Makes a relative SQLite path absolute so that every process opens the same file. */
function normaliseDatabaseUrl(url: string, cwd: string): string {
  if (!url.startsWith("file:")) return url;
  const path = url.slice("file:".length);
  return `file:${isAbsolute(path) ? path : resolve(cwd, path)}`;
}

export function sqlitePath(databaseUrl: string): string {
  if (!databaseUrl.startsWith("file:")) throw new Error(`not a SQLite URL: ${redactUrl(databaseUrl)}`);
  return databaseUrl.slice("file:".length);
}

/** A database URL with any password removed, safe to log. */
export function redactUrl(url: string): string {
  if (url.startsWith("file:")) return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<unparsable URL>";
  }
}

/**
 * Returns the secret from the environment variable if set, otherwise from
 * DATA_DIR/<name>.secret, creating that file (mode 600) on first use.
 */
export function resolveSecret(name: "engine" | "auth", dataDir: string, source: EnvSource = process.env): string {
  const variable = name === "engine" ? "ENGINE_SECRET" : "AUTH_SECRET";
  const fromEnv = source[variable];
  if (fromEnv && fromEnv !== "") {
    if (fromEnv.length < 32) throw new EnvError([{ variable, message: "must be at least 32 characters long" }]);
    return fromEnv;
  }
  const file = join(dataDir, `${name}.secret`);
  if (existsSync(file)) {
    const value = readFileSync(file, "utf8").trim();
    if (value.length >= 32) return value;
  }
  mkdirSync(dataDir, { recursive: true });
  const value = randomBytes(32).toString("base64url");
  try {
    writeFileSync(file, value + "\n", { mode: 0o600, flag: "wx" });
  } catch (err) {
    // Another process created it first: use theirs so both sides agree.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return readFileSync(file, "utf8").trim();
    throw err;
  }
  chmodSync(file, 0o600);
  return value;
}

/** Exit code for a configuration error (EX_CONFIG): the launcher does not restart on it. */
export const EXIT_CONFIG = 78;

/** loadEnv for process entry points: prints the named problems and exits with EXIT_CONFIG. */
export function loadEnvOrExit(program: string): AppEnv {
  try {
    return loadEnv();
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`${program}: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}
