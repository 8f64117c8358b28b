/**
 * Trial evaluators: in-process, or a pool of worker threads.
 *
 * Workers run TypeScript: each is an eval'd CommonJS bootstrap that imports
 * tsx's ESM API by absolute path, calls register(), then imports worker.ts by
 * absolute file URL. This works both under `node --import tsx` and inside
 * vitest (where `new Worker(file.ts, { execArgv: ["--import", "tsx"] })` does
 * not), and does not depend on the working directory.
 *
 * The bars are copied once into SharedArrayBuffers and shared by every worker
 * (no per-worker copy); each worker then gets one parameter set per message.
 * A trial that throws comes back as a failed outcome; a worker that dies
 * fails its current trial with the reason and is replaced (up to a limit).
 * Cancellation terminates the busy workers; close() terminates them all.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { BarColumns } from "../data/types";
import { evaluateTrial, type TrialBase, type TrialOutcome, type TrialTask } from "./trial";
import type { FromWorker, ToWorker } from "./worker";

const WORKER_FLAG = "tradeforgeOptimizeWorker"; // = worker.ts WORKER_FLAG (not imported: that would load worker.ts here)

export interface EvaluateOptions {
  /** Called as each trial finishes (in completion order). */
  onResult?: (index: number, outcome: TrialOutcome) => void;
  /** Polled between trials (and every 65,536 bars in-process, every 50 ms with workers). */
  shouldStop?: () => boolean;
}

export interface Evaluator {
  /** Worker threads; 0 = in-process. */
  readonly workers: number;
  /** Outcomes in task order. Never rejects for a failing trial; unfinished trials come back cancelled. */
  run(tasks: readonly TrialTask[], opts?: EvaluateOptions): Promise<TrialOutcome[]>;
  close(): Promise<void>;
}

const cancelled = (t: TrialTask): TrialOutcome => ({ ok: false, params: t.params, error: "cancelled", cancelled: true });
const nextTick = () => new Promise<void>((r) => setImmediate(r));

/** Runs trials one after another on the calling thread (yielding to the event loop between them). */
export function inProcessEvaluator(base: TrialBase): Evaluator {
  return {
    workers: 0,
    async run(tasks, opts = {}) {
      const out: TrialOutcome[] = [];
      for (let i = 0; i < tasks.length; i++) {
        const t = tasks[i]!;
        if (opts.shouldStop?.()) {
          out.push(cancelled(t));
          continue;
        }
        const o = evaluateTrial(base, t, { shouldStop: opts.shouldStop });
        out.push(o);
        opts.onResult?.(i, o);
        if (i + 1 < tasks.length) await nextTick();
      }
      return out;
    },
    async close() {},
  };
}

/** The default pool size: min(available parallelism, 2). */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(availableParallelism(), 2));
}

/** The bar columns copied once into shared memory (trimmed to `length`). */
export function shareBars(b: BarColumns): BarColumns {
  const n = b.length;
  const sab = new SharedArrayBuffer(Math.max(1, n) * 8 * 6);
  const col = (k: number, src: Float64Array) => {
    const a = new Float64Array(sab, k * n * 8, n);
    a.set(src.subarray(0, n));
    return a;
  };
  return { length: n, ts: col(0, b.ts), open: col(1, b.open), high: col(2, b.high), low: col(3, b.low), close: col(4, b.close), volume: col(5, b.volume) };
}

const BOOTSTRAP = `
const { workerData, parentPort } = require("node:worker_threads");
(async () => {
  const api = await import(workerData.tsxApi);
  const register = api.register || (api.default && api.default.register);
  register();
  await import(workerData.entry);
})().catch((e) => parentPort.postMessage({ type: "fatal", message: String((e && e.stack) || e) }));
`;

function bootstrapData(): Record<string, unknown> {
  // tsx's ESM API as an absolute URL: the "import" build named by tsx's own
  // package.json (its CommonJS build registers a path that does not exist)
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports?: Record<string, { import?: { default?: string } }> };
  const rel = pkg.exports?.["./esm/api"]?.import?.default ?? "./dist/esm/api/index.mjs";
  const tsxApi = new URL(rel, pathToFileURL(pkgPath)).href;
  const entry = new URL("./worker.ts", import.meta.url).href;
  return { tsxApi, entry, [WORKER_FLAG]: true };
}

interface Slot {
  worker: Worker;
  dead: boolean;
  stopping: boolean;
  pending: { id: number; task: TrialTask; resolve: (o: TrialOutcome) => void } | null;
}

export interface PoolOptions {
  size?: number;
  /** Max time for a worker to load (ms). */
  startTimeoutMs?: number;
  /** Replacements for crashed workers over the pool's life (workers stopped on request are always replaced). */
  maxRestarts?: number;
}

export class WorkerPool implements Evaluator {
  private slots: Slot[] = [];
  private seq = 0;
  private restarts = 0;
  private closed = false;
  private constructor(
    private readonly base: TrialBase,
    readonly workers: number,
    private readonly opts: Required<Omit<PoolOptions, "size">>,
  ) {}

  /** Starts `size` workers (default defaultPoolSize()) and waits until each has the data. */
  static async create(base: TrialBase, opts: PoolOptions = {}): Promise<WorkerPool> {
    const size = opts.size ?? defaultPoolSize();
    if (!(size >= 1)) throw new RangeError(`pool size must be >= 1, got ${size}`);
    const shared: TrialBase = { ...base, bars: shareBars(base.bars) };
    const pool = new WorkerPool(shared, size, { startTimeoutMs: opts.startTimeoutMs ?? 60_000, maxRestarts: opts.maxRestarts ?? 4 });
    const started = await Promise.allSettled(Array.from({ length: size }, () => pool.spawn()));
    for (const s of started) if (s.status === "fulfilled") pool.slots.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      await pool.close();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return pool;
  }

  private spawn(): Promise<Slot> {
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: bootstrapData() });
    const slot: Slot = { worker, dead: false, stopping: false, pending: null };
    return new Promise<Slot>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => fail(new Error(`optimiser worker did not start within ${this.opts.startTimeoutMs} ms`)), this.opts.startTimeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        slot.dead = true;
        void worker.terminate();
        reject(e);
      };
      worker.on("message", (m: FromWorker) => {
        if (m.type === "loaded") worker.postMessage({ type: "init", base: this.base } satisfies ToWorker);
        else if (m.type === "ready") {
          ready = true;
          clearTimeout(timer);
          resolve(slot);
        } else if (m.type === "fatal") {
          if (!ready) fail(new Error(`optimiser worker failed to load: ${m.message}`));
          else this.settle(slot, { ok: false, params: slot.pending?.task.params ?? {}, error: `worker failed: ${m.message}` }, true);
        } else if (m.type === "result") {
          const p = slot.pending;
          if (p && p.id === m.id) {
            slot.pending = null;
            p.resolve(m.outcome);
          }
        }
      });
      worker.on("error", (err) => {
        if (!ready) fail(err);
        else this.settle(slot, { ok: false, params: slot.pending?.task.params ?? {}, error: `worker crashed: ${err.message}` }, true);
      });
      worker.on("exit", (code) => {
        if (!ready) return fail(new Error(`optimiser worker exited with code ${code} while loading`));
        const p = slot.pending;
        this.settle(slot, slot.stopping && p ? cancelled(p.task) : { ok: false, params: p?.task.params ?? {}, error: `worker exited with code ${code}` }, true);
      });
    });
  }

  /** Resolves the slot's pending trial with `o`; `dead` marks the worker unusable. */
  private settle(slot: Slot, o: TrialOutcome, dead: boolean): void {
    if (dead && !slot.dead) {
      slot.dead = true;
      void slot.worker.terminate();
    }
    const p = slot.pending;
    if (!p) return;
    slot.pending = null;
    p.resolve({ ...o, params: p.task.params });
  }

  private exec(slot: Slot, task: TrialTask): Promise<TrialOutcome> {
    return new Promise<TrialOutcome>((resolve) => {
      const id = ++this.seq;
      slot.pending = { id, task, resolve };
      slot.worker.postMessage({ type: "eval", id, task } satisfies ToWorker);
    });
  }

  /** A replacement for a dead slot, or null when the restart budget is spent or it fails to start. */
  private async replace(slot: Slot): Promise<Slot | null> {
    const i = this.slots.indexOf(slot);
    // workers terminated by a stop request do not count against the crash budget
    const crashed = !slot.stopping;
    if (this.closed || (crashed && this.restarts >= this.opts.maxRestarts)) {
      if (i >= 0) this.slots.splice(i, 1);
      return null;
    }
    if (crashed) this.restarts++;
    try {
      const s = await this.spawn();
      if (i >= 0) this.slots[i] = s;
      else this.slots.push(s);
      return s;
    } catch {
      if (i >= 0) this.slots.splice(i, 1);
      return null;
    }
  }

  async run(tasks: readonly TrialTask[], opts: EvaluateOptions = {}): Promise<TrialOutcome[]> {
    if (this.closed) throw new Error("the worker pool is closed");
    const out = new Array<TrialOutcome | undefined>(tasks.length);
    let next = 0;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      for (const s of this.slots)
        if (s.pending && !s.dead) {
          // dead at once: the trial's result may still arrive before the worker exits, and the slot
          // must not take the next run's first trial (it would come back cancelled when "exit" fires)
          s.stopping = true;
          s.dead = true;
          void s.worker.terminate();
        }
    };
    const poll = opts.shouldStop
      ? setInterval(() => {
          if (opts.shouldStop!()) stop();
        }, 50)
      : null;
    const loop = async (first: Slot) => {
      let slot: Slot | null = first;
      while (slot) {
        if (stopped || opts.shouldStop?.()) {
          stop();
          return;
        }
        if (slot.dead) {
          slot = await this.replace(slot);
          continue;
        }
        if (next >= tasks.length) return;
        const i = next++;
        const o = await this.exec(slot, tasks[i]!);
        out[i] = o;
        opts.onResult?.(i, o);
      }
    };
    try {
      await Promise.all(this.slots.map(loop));
    } finally {
      if (poll) clearInterval(poll);
    }
    // after a stop, bring dead slots back lazily on the next run
    return tasks.map((t, i) => out[i] ?? (stopped ? cancelled(t) : { ok: false, params: t.params, error: "no optimiser worker left to run this trial" }));
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)));
  }
}

export interface EvaluatorChoice {
  evaluator: Evaluator;
  /** Why a pool was asked for but not used. */
  fallback?: string;
}

/** workers = 0: in-process; otherwise a pool of that size, falling back to in-process if the workers cannot start. */
export async function createEvaluator(base: TrialBase, workers: number): Promise<EvaluatorChoice> {
  if (workers <= 0) return { evaluator: inProcessEvaluator(base) };
  try {
    return { evaluator: await WorkerPool.create(base, { size: workers }) };
  } catch (e) {
    return { evaluator: inProcessEvaluator(base), fallback: (e as Error).message };
  }
}
