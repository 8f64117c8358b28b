/**
 * Trial runners for RL tuning: in-process (workers: 0, tests), or a pool of
 * worker threads (default min(cores, 2)).
 *
 * Workers run TypeScript the same way engine/optimize/pool.ts does: each is
 * an eval'd CommonJS bootstrap that imports tsx's ESM API by absolute URL,
 * calls register(), then imports tune/worker.ts by absolute file URL (works
 * under `node --import tsx` and inside vitest, independent of the working
 * directory).
 *
 * The trading series is loaded ONCE in the main thread; its bar columns are
 * copied once into one SharedArrayBuffer (optimize/pool.ts shareBars) and
 * shared by every worker together with the instrument record; each worker's
 * sessions get a `loadBars` dependency returning them. One trial (a full
 * training configuration) goes to a worker per message.
 *
 * A trial that fails comes back as a failed outcome (never a rejection); a
 * worker that dies fails its current trial with the reason and is replaced
 * (up to maxRestarts).
 *
 * Stopping is cooperative. Trials train through onnxruntime-node (PPO's
 * default "onnx" backend), and Worker.terminate() in the middle of a native
 * ORT call aborts the WHOLE process ("terminate called after throwing an
 * instance of 'Napi::Error'"), so a busy worker is never terminated:
 *  - when shouldStop() turns true, each busy worker gets {type:"stop", id};
 *    its trial (which yields to the worker's event loop between training
 *    iterations, worker.ts YIELD_EVERY_MS) stops at the next iteration,
 *    releases its ORT session and answers with a cancelled outcome carrying
 *    the steps it trained (or its real outcome when it had just finished,
 *    which is then reported through onResult like any other). run() returns
 *    once every busy worker has answered; the workers stay in the pool.
 *  - a worker that does not answer a stop within stopTimeoutMs (30 s: one
 *    training iteration would have to take that long) has its trial reported
 *    cancelled and is retired, still not terminated: it gets {type:"shutdown"}
 *    and exits by itself after its trial; a fresh worker takes its place.
 *  - close() asks every worker to shut down (stopping a trial first if one is
 *    running): the worker closes its port and its thread exits. terminate()
 *    is the last resort, after closeTimeoutMs, and only for a worker that is
 *    not inside a trial (no native call in progress); a worker still inside
 *    a trial then is unref'd instead (it no longer keeps the process alive
 *    and exits by itself when its iteration ends).
 * Workers that failed to start (still loading, no trial) are terminated.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { defaultPoolSize, shareBars } from "../../optimize/pool";
import type { TrainConfig } from "../train/config";
import { runTrial, type TrialData, type TrialOutcome } from "./trial";
import type { FromWorker, ToWorker } from "./worker";

const WORKER_FLAG = "tradeforgeRlTuneWorker"; // = worker.ts WORKER_FLAG (not imported: that would load worker.ts here)

export { defaultPoolSize };

export interface RunOptions {
  /** Called as each trial finishes (completion order). */
  onResult?: (index: number, outcome: TrialOutcome) => void;
  /** Polled between training iterations in-process, every 50 ms with workers (busy workers are then asked to stop, see above). */
  shouldStop?: () => boolean;
}

export interface TrialRunner {
  /** Worker threads; 0 = in-process. */
  readonly workers: number;
  /** Outcomes in task order. Never rejects for a failing trial; unfinished trials come back cancelled. */
  run(configs: readonly TrainConfig[], opts?: RunOptions): Promise<TrialOutcome[]>;
  close(): Promise<void>;
}

const cancelled = (): TrialOutcome => ({ ok: false, error: "cancelled", cancelled: true, seconds: 0 });

/** Runs trials one after another on the calling thread, yielding to the event loop every ~50 ms. */
export function inProcessRunner(data: TrialData | null): TrialRunner {
  return {
    workers: 0,
    async run(configs, opts = {}) {
      const out: TrialOutcome[] = [];
      for (let i = 0; i < configs.length; i++) {
        if (opts.shouldStop?.()) {
          out.push(cancelled());
          continue;
        }
        const o = await runTrial(configs[i]!, data, { shouldStop: opts.shouldStop, yieldEveryMs: 50 });
        out.push(o);
        if (!(o.ok === false && o.cancelled)) opts.onResult?.(i, o);
      }
      return out;
    },
    async close() {},
  };
}

// no require(): the eval'd code also runs as ESM when the host was started with --input-type=module
const BOOTSTRAP = `
(async () => {
  const { workerData, parentPort } = await import("node:worker_threads");
  try {
    const api = await import(workerData.tsxApi);
    const register = api.register || (api.default && api.default.register);
    register();
    await import(workerData.entry);
  } catch (e) {
    parentPort.postMessage({ type: "fatal", message: String((e && e.stack) || e) });
  }
})();
`;

function bootstrapData(): Record<string, unknown> {
  // tsx's ESM API as an absolute URL: the "import" build named by tsx's own package.json
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
  /** Takes no more trials (crashed, exited, retired or shutting down). */
  dead: boolean;
  /** Its trial was asked to stop: a death now cancels the trial, and does not count against maxRestarts. */
  stopping: boolean;
  /** The trial run() waits for. */
  pending: { id: number; resolve: (o: TrialOutcome) => void; started: number } | null;
  /** The trial posted to the worker whose result has not come back: the worker may be inside ONNX Runtime. */
  busyId: number | null;
  stopTimer: ReturnType<typeof setTimeout> | null;
  exited: boolean;
  /** Resolves when the thread has exited. */
  exit: Promise<void>;
}

export interface PoolOptions {
  size?: number;
  /** Max time for a worker to load (ms). */
  startTimeoutMs?: number;
  /** Replacements for crashed workers over the pool's life (workers retired after a stop are always replaced). */
  maxRestarts?: number;
  /** Max wait for a busy worker to answer a stop before its trial is reported cancelled and the worker retired (ms). */
  stopTimeoutMs?: number;
  /** Max wait in close() for a worker to exit after {type:"shutdown"} before the last resort (ms). */
  closeTimeoutMs?: number;
}

export class RlWorkerPool implements TrialRunner {
  private slots: Slot[] = [];
  private seq = 0;
  private restarts = 0;
  private closed = false;
  /** Workers that did not answer a stop in time: out of the pool, exiting after their trial. */
  private readonly retired = new Set<Slot>();
  private constructor(
    private readonly data: TrialData | null,
    readonly workers: number,
    private readonly opts: Required<Omit<PoolOptions, "size">>,
  ) {}

  /** Starts `size` workers (default min(cores, 2)) and waits until each has the data. */
  static async create(data: TrialData | null, opts: PoolOptions = {}): Promise<RlWorkerPool> {
    const size = opts.size ?? defaultPoolSize();
    if (!(size >= 1)) throw new RangeError(`pool size must be >= 1, got ${size}`);
    const shared: TrialData | null = data ? { bars: shareBars(data.bars), instrument: { ...data.instrument } } : null;
    const pool = new RlWorkerPool(shared, size, {
      startTimeoutMs: opts.startTimeoutMs ?? 60_000,
      maxRestarts: opts.maxRestarts ?? 4,
      stopTimeoutMs: opts.stopTimeoutMs ?? 30_000,
      closeTimeoutMs: opts.closeTimeoutMs ?? 30_000,
    });
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
    let onExit!: () => void;
    const exit = new Promise<void>((r) => (onExit = r));
    const slot: Slot = { worker, dead: false, stopping: false, pending: null, busyId: null, stopTimer: null, exited: false, exit };
    return new Promise<Slot>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => fail(new Error(`tuning worker did not start within ${this.opts.startTimeoutMs} ms`)), this.opts.startTimeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        slot.dead = true;
        void worker.terminate(); // still loading: no trial, no native call in progress
        reject(e);
      };
      worker.on("message", (m: FromWorker) => {
        if (m.type === "loaded") worker.postMessage({ type: "init", data: this.data } satisfies ToWorker);
        else if (m.type === "ready") {
          ready = true;
          clearTimeout(timer);
          resolve(slot);
        } else if (m.type === "fatal") {
          // only the bootstrap sends it (loading failed): no trial is running
          if (!ready) fail(new Error(`tuning worker failed to load: ${m.message}`));
          else {
            this.settle(slot, `worker failed: ${m.message}`);
            void worker.terminate();
          }
        } else if (m.type === "result") {
          if (slot.busyId === m.id) slot.busyId = null;
          const p = slot.pending;
          if (p && p.id === m.id) {
            this.clearStopTimer(slot);
            slot.pending = null;
            slot.stopping = false; // it answered: the worker is idle and stays in the pool
            p.resolve(m.outcome);
          }
        }
      });
      // an uncaught error ends the worker by itself ("exit" follows)
      worker.on("error", (err) => {
        if (!ready) fail(err);
        else this.settle(slot, `worker crashed: ${err.message}`);
      });
      worker.on("exit", (code) => {
        slot.exited = true;
        slot.busyId = null;
        this.retired.delete(slot);
        onExit();
        if (!ready) return fail(new Error(`tuning worker exited with code ${code} while loading`));
        this.settle(slot, `worker exited with code ${code}`);
      });
    });
  }

  private clearStopTimer(slot: Slot): void {
    if (slot.stopTimer) clearTimeout(slot.stopTimer);
    slot.stopTimer = null;
  }

  /** The slot's worker is unusable: fail (or cancel, when stopping) its pending trial. */
  private settle(slot: Slot, error: string): void {
    slot.dead = true;
    this.clearStopTimer(slot);
    const p = slot.pending;
    if (!p) return;
    slot.pending = null;
    p.resolve(slot.stopping ? cancelled() : { ok: false, error, seconds: (performance.now() - p.started) / 1000 });
  }

  private exec(slot: Slot, config: TrainConfig): Promise<TrialOutcome> {
    return new Promise<TrialOutcome>((resolve) => {
      const id = ++this.seq;
      slot.pending = { id, resolve, started: performance.now() };
      slot.busyId = id;
      slot.worker.postMessage({ type: "eval", id, config } satisfies ToWorker);
    });
  }

  /** Asks the slot's running trial to stop at its next training iteration; the answer resolves it (see the header). */
  private requestStop(slot: Slot): void {
    const p = slot.pending;
    if (!p || slot.dead || slot.stopping) return;
    slot.stopping = true;
    slot.worker.postMessage({ type: "stop", id: p.id } satisfies ToWorker);
    slot.stopTimer = setTimeout(() => this.retire(slot), this.opts.stopTimeoutMs);
    slot.stopTimer.unref?.();
  }

  /** No answer to a stop in time: the trial is reported cancelled; the worker leaves the pool and exits after its trial (never terminated mid-trial). */
  private retire(slot: Slot): void {
    slot.stopTimer = null;
    const p = slot.pending;
    if (!p || slot.dead) return;
    slot.pending = null;
    slot.dead = true;
    if (!slot.exited) {
      this.retired.add(slot);
      slot.worker.postMessage({ type: "shutdown" } satisfies ToWorker);
    }
    p.resolve({ ok: false, error: `cancelled (the worker did not answer the stop within ${this.opts.stopTimeoutMs} ms)`, cancelled: true, seconds: (performance.now() - p.started) / 1000 });
  }

  /** Lets the worker exit by itself; terminate() only as the last resort, and never while it is inside a trial. */
  private async shutdown(slot: Slot): Promise<void> {
    if (slot.exited) return;
    slot.dead = true;
    if (slot.busyId !== null) {
      slot.stopping = true;
      slot.worker.postMessage({ type: "stop", id: slot.busyId } satisfies ToWorker);
    }
    slot.worker.postMessage({ type: "shutdown" } satisfies ToWorker);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([slot.exit.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), this.opts.closeTimeoutMs)))]);
    clearTimeout(timer);
    if (exited || slot.exited) return;
    if (slot.busyId === null) await slot.worker.terminate().catch(() => 0); // idle: no native call in progress
    else slot.worker.unref(); // still inside a trial: terminating could abort the process; it exits after its iteration
  }

  /** A replacement for a dead slot, or null when the restart budget is spent or it fails to start. */
  private async replace(slot: Slot): Promise<Slot | null> {
    const i = this.slots.indexOf(slot);
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

  async run(configs: readonly TrainConfig[], opts: RunOptions = {}): Promise<TrialOutcome[]> {
    if (this.closed) throw new Error("the tuning worker pool is closed");
    const out = new Array<TrialOutcome | undefined>(configs.length);
    let next = 0;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      for (const s of this.slots) this.requestStop(s);
    };
    const poll = opts.shouldStop
      ? setInterval(() => {
          if (opts.shouldStop!()) stop();
        }, 50)
      : null;
    const loop = async (first: Slot) => {
      let slot: Slot | null = first;
      while (slot) {
        if (stopped || this.closed || opts.shouldStop?.()) {
          stop();
          return;
        }
        if (slot.dead) {
          slot = await this.replace(slot);
          continue;
        }
        if (next >= configs.length) return;
        const i = next++;
        const o = await this.exec(slot, configs[i]!);
        out[i] = o;
        if (!(o.ok === false && o.cancelled)) opts.onResult?.(i, o);
      }
    };
    try {
      await Promise.all(this.slots.slice().map(loop));
    } finally {
      if (poll) clearInterval(poll);
    }
    return configs.map((_, i) => out[i] ?? (stopped ? cancelled() : { ok: false, error: "no tuning worker left to run this trial", seconds: 0 }));
  }

  /** Shuts every worker down (see the header); resolves when they have exited (or been left to exit after their trial). */
  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots, ...this.retired];
    this.slots = [];
    await Promise.all(slots.map((s) => this.shutdown(s)));
  }
}

export interface RunnerChoice {
  runner: TrialRunner;
  /** Why a pool was asked for but not used. */
  fallback?: string;
}

/** workers = 0: in-process; otherwise a pool of that size, falling back to in-process if the workers cannot start. */
export async function createRunner(data: TrialData | null, workers: number): Promise<RunnerChoice> {
  if (workers <= 0) return { runner: inProcessRunner(data) };
  try {
    return { runner: await RlWorkerPool.create(data, { size: workers }) };
  } catch (e) {
    return { runner: inProcessRunner(data), fallback: (e as Error).message };
  }
}
