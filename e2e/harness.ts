/**
 * Starts the platform the way README says (`npm start`) on free ports with a
 * fresh DATA_DIR, and drives Debian's Chromium with playwright-core.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = join(process.cwd(), "e2e", "artifacts");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Platform {
  baseUrl: string;
  enginePort: number;
  dataDir: string;
  output: () => string;
  /** Milliseconds from spawning `npm start` until the login page answered 200. */
  loginReadyMs: number;
  stop(): Promise<void>;
}

export async function startPlatform(extraEnv: Record<string, string> = {}): Promise<Platform> {
  const [port, enginePort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), "tf-e2e-"));
  let out = "";
  const t0 = Date.now();
  const child: ChildProcess = spawn("npm", ["start"], {
    cwd: process.cwd(),
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), ENGINE_PORT: String(enginePort), APP_HOST: "127.0.0.1", ADMIN_EMAIL: "", ADMIN_PASSWORD: "", ENGINE_SECRET: "", AUTH_SECRET: "", DATABASE_URL: "", LOG_LEVEL: "warn", ...extraEnv },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`login page did not answer within 240 s:\n${out}`);
    try {
      const res = await fetch(`${baseUrl}/login`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const loginReadyMs = Date.now() - t0;
  return {
    baseUrl,
    enginePort,
    dataDir,
    output: () => out,
    loginReadyMs,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // gone
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

/** The admin password that `npm start` prints once on the first start. */
export function printedAdminPassword(output: string): { email: string; password: string } {
  const email = /created admin account (\S+)/.exec(output)?.[1];
  const password = /Password \(shown once[^)]*\): (\S+)/.exec(output)?.[1];
  if (!email || !password) throw new Error(`no admin credentials in the start-up output:\n${output}`);
  return { email, password };
}
