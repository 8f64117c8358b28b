/**
 * Keeps a child process running: restarts it with exponential backoff when it
 * exits unexpectedly, resets the backoff after it has stayed up for a while,
 * and stops it with SIGTERM (then SIGKILL) on shutdown.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface SupervisorOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Exit codes that mean "do not restart" (e.g. bad configuration). */
  fatalCodes?: number[];
  minBackoffMs?: number;
  maxBackoffMs?: number;
  stableAfterMs?: number;
  log: (msg: string) => void;
  onFatal?: (code: number) => void;
}

export class Supervisor {
  private child: ChildProcess | null = null;
  private stopping = false;
  private backoff: number;
  private timer: NodeJS.Timeout | null = null;
  restarts = 0;

  constructor(private readonly o: SupervisorOptions) {
    this.backoff = o.minBackoffMs ?? 500;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.stopping) return;
    const startedAt = Date.now();
    const child = spawn(this.o.command, this.o.args, { env: this.o.env, cwd: this.o.cwd, stdio: "inherit" });
    this.child = child;
    child.on("exit", (code, signal) => {
      this.child = null;
      if (this.stopping) return;
      if (code !== null && this.o.fatalCodes?.includes(code)) {
        this.o.log(`${this.o.name} exited with code ${code} (configuration error); not restarting`);
        this.o.onFatal?.(code);
        return;
      }
      if (Date.now() - startedAt > (this.o.stableAfterMs ?? 60_000)) this.backoff = this.o.minBackoffMs ?? 500;
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 30_000);
      this.restarts++;
      this.o.log(`${this.o.name} exited (${signal ?? `code ${code}`}); restarting in ${wait} ms`);
      this.timer = setTimeout(() => this.start(), wait);
    });
  }

  async stop(timeoutMs = 8000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }
}
