/**
 * The worker-thread side of tune/pool.ts: receives the trading series once
 * (bars in shared memory + the instrument record), then runs one trial per
 * message with the same runTrial as the in-process runner. Loaded by
 * pool.ts's eval'd bootstrap after it has registered tsx; does nothing when
 * imported elsewhere.
 *
 * Stopping is cooperative, never a terminate() in the middle of an ONNX
 * Runtime call (that aborts the whole process):
 *   {type:"stop", id}   the trial `id` stops at its next training iteration,
 *                       releases its ORT session and answers with a
 *                       cancelled outcome (or its real outcome when it had
 *                       already finished). The trial yields to the event loop
 *                       every YIELD_EVERY_MS of training so the message can
 *                       arrive at all.
 *   {type:"shutdown"}   after the trials already received, the worker closes
 *                       its port and the thread exits by itself.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { TrainConfig } from "../train/config";
import { runTrial, type TrialData, type TrialOutcome } from "./trial";

export const WORKER_FLAG = "tradeforgeRlTuneWorker";

/** Training time between two turns of the worker's event loop (when a "stop" can be received). */
export const YIELD_EVERY_MS = 20;

export type ToWorker = { type: "init"; data: TrialData | null } | { type: "eval"; id: number; config: TrainConfig } | { type: "stop"; id: number } | { type: "shutdown" };
export type FromWorker = { type: "loaded" } | { type: "ready" } | { type: "result"; id: number; outcome: TrialOutcome } | { type: "fatal"; message: string };

const port = parentPort;
if (port && (workerData as Record<string, unknown> | null)?.[WORKER_FLAG] === true) {
  let data: TrialData | null = null;
  let chain: Promise<void> = Promise.resolve();
  /** Trials received and not answered yet, and whether each was asked to stop. */
  const trials = new Map<number, { stop: boolean }>();
  port.on("message", (m: ToWorker) => {
    switch (m.type) {
      case "init":
        data = m.data;
        port.postMessage({ type: "ready" } satisfies FromWorker);
        return;
      case "stop": {
        const t = trials.get(m.id);
        if (t) t.stop = true;
        return;
      }
      case "shutdown":
        // after the trials already queued; with the port closed the event loop empties and the thread exits
        chain = chain.then(() => port.close());
        return;
      case "eval": {
        const t = { stop: false };
        trials.set(m.id, t);
        // one trial at a time, in arrival order
        chain = chain.then(async () => {
          const outcome = t.stop ? ({ ok: false, error: "cancelled", cancelled: true, steps: 0, seconds: 0 } satisfies TrialOutcome) : await runTrial(m.config, data, { shouldStop: () => t.stop, yieldEveryMs: YIELD_EVERY_MS });
          trials.delete(m.id);
          port.postMessage({ type: "result", id: m.id, outcome } satisfies FromWorker);
        });
        return;
      }
    }
  });
  port.postMessage({ type: "loaded" } satisfies FromWorker);
}
