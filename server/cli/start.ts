/**
 * npm start: the whole platform on one machine.
 *  1. validates the environment (a bad variable stops here, named)
 *  2. creates secrets in DATA_DIR if unset, applies database migrations
 *  3. creates the first admin if there is no user (password printed once)
 *  4. builds the web app if there is no production build yet
 *  5. runs the engine and the web app, restarting either with backoff if it dies
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { EXIT_CONFIG, loadEnvOrExit, redactUrl, resolveSecret } from "@/engine/runtime/env";
import { ensureDemoData } from "@/engine/store/demo";
import { openSql } from "@/engine/store/sql";
import { createDb } from "@/prisma/db";
import { migrate } from "@/prisma/migrate";
import { ensureAdmin } from "@/server/bootstrap";
import { usersRepo } from "@/server/db/users";
import { Supervisor } from "./supervisor";

/**
 * V8 flags for the engine: a young generation of at most 8 MB per semi-space.
 * Backtests create many short-lived order objects; the default (16 MB) grew
 * the process by ~20 MB for no measurable speed (see BENCHMARKS.md).
 */
export const ENGINE_NODE_FLAGS = ["--max-semi-space-size=8"];

const root = process.cwd();
const log = (msg: string) => process.stdout.write(JSON.stringify({ level: 30, time: new Date().toISOString(), name: "launcher", msg }) + "\n");

function buildIsCurrent(): boolean {
  const id = join(root, ".next", "BUILD_ID");
  return existsSync(id) && readFileSync(id, "utf8").trim() !== "";
}

/** Resolves to an error message when the address is taken, undefined when it is free. */
function portProblem(port: number, host: string, variable: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) =>
      resolve(`${variable}: port ${port} on ${host} is not available (${err.code ?? err.message}); stop what uses it or set ${variable} to another port`),
    );
    probe.listen(port, host, () => probe.close(() => resolve(undefined)));
  });
}

async function main(): Promise<void> {
  const env = loadEnvOrExit("start");
  const problems = (await Promise.all([portProblem(env.port, env.hostname, "PORT"), portProblem(env.enginePort, "127.0.0.1", "ENGINE_PORT")])).filter(Boolean);
  if (problems.length > 0) {
    process.stderr.write(`start: ${problems.join("\n")}\n`);
    process.exit(EXIT_CONFIG);
  }
  const engineSecret = resolveSecret("engine", env.dataDir);
  const authSecret = resolveSecret("auth", env.dataDir);
  const result = await migrate(env.databaseUrl);
  log(`database ${redactUrl(env.databaseUrl)}: ${result.total} migrations, ${result.applied.length} applied now`);

  const sql = openSql(env.databaseUrl);
  try {
    const demo = await ensureDemoData(sql);
    if (demo) log(`demo data: imported ${demo.stored} daily S&P 500 bars (${demo.fileName}) as SPX 1d; ${demo.quarantined} quarantined, ${demo.flagged} flagged`);
  } catch (err) {
    log(`demo data not imported: ${(err as Error).message}`);
  } finally {
    await sql.close();
  }

  const db = createDb(env.databaseUrl);
  const admin = await ensureAdmin(usersRepo(db), { email: env.adminEmail, password: env.adminPassword });
  await db.$disconnect();
  if (admin.created) {
    const lines = admin.generatedPassword
      ? [`First start: created admin account ${admin.email}`, `Password (shown once, change it or keep it safe): ${admin.generatedPassword}`]
      : [`First start: created admin account ${admin.email} with the password from ADMIN_PASSWORD`];
    const width = Math.max(...lines.map((l) => l.length)) + 4;
    process.stdout.write(`\n${"=".repeat(width)}\n${lines.map((l) => `  ${l}`).join("\n")}\n${"=".repeat(width)}\n\n`);
  }

  if (!buildIsCurrent()) {
    log("no production build found: running next build (once, about a minute)");
    execFileSync(process.execPath, [join(root, "node_modules", "next", "dist", "bin", "next"), "build"], { stdio: "inherit", cwd: root });
  }

  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    DATA_DIR: env.dataDir,
    DATABASE_URL: env.databaseUrl,
    ENGINE_SECRET: engineSecret,
    AUTH_SECRET: authSecret,
    AUTH_TRUST_HOST: "true",
    ENGINE_URL: env.engineUrl,
    ENGINE_PORT: String(env.enginePort),
    NEXT_TELEMETRY_DISABLED: "1",
  };
  let exiting = false;
  const fatal = (code: number) => {
    if (!exiting) void shutdown("fatal", code);
  };
  // One process (no tsx CLI wrapper), so signals and exit codes are the engine's own.
  const engine = new Supervisor({ name: "engine", command: process.execPath, args: [...ENGINE_NODE_FLAGS, "--import", "tsx", join(root, "engine", "main.ts")], env: childEnv, cwd: root, fatalCodes: [EXIT_CONFIG], log, onFatal: fatal });
  const web = new Supervisor({
    name: "web",
    command: process.execPath,
    args: ["--import", "tsx", join(root, "server", "cli", "web.ts")],
    env: childEnv,
    cwd: root,
    fatalCodes: [EXIT_CONFIG],
    log,
    onFatal: fatal,
  });
  engine.start();
  web.start();
  log(`web app on http://localhost:${env.port} (listening on ${env.hostname}); engine on ${env.engineUrl}`);

  async function shutdown(signal: string, code = 0): Promise<void> {
    if (exiting) return;
    exiting = true;
    log(`${signal}: stopping web app and engine`);
    await Promise.all([web.stop(), engine.stop()]);
    process.exit(code);
  }
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((err: unknown) => {
  process.stderr.write(`start failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
