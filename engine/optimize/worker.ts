/**
 * The worker-thread side of pool.ts: receives the prepared backtest once (its
 * bars in shared memory), then evaluates one trial per message with the same
 * evaluateTrial as the in-process evaluator. Loaded by pool.ts's eval'd
 * bootstrap after it has registered tsx; does nothing when imported elsewhere.
 */
import { parentPort, workerData } from "node:worker_threads";
import { evaluateTrial, type TrialBase, type TrialOutcome, type TrialTask } from "./trial";

export const WORKER_FLAG = "tradeforgeOptimizeWorker";

export type ToWorker = { type: "init"; base: TrialBase } | { type: "eval"; id: number; task: TrialTask };
export type FromWorker = { type: "loaded" } | { type: "ready" } | { type: "result"; id: number; outcome: TrialOutcome } | { type: "fatal"; message: string };

const port = parentPort;
if (port && (workerData as Record<string, unknown> | null)?.[WORKER_FLAG] === true) {
  let base: TrialBase | null = null;
  port.on("message", (m: ToWorker) => {
    if (m.type === "init") {
      base = m.base;
      port.postMessage({ type: "ready" } satisfies FromWorker);
      return;
    }
    const outcome: TrialOutcome = base ? evaluateTrial(base, m.task) : { ok: false, params: m.task.params, error: "worker not initialised" };
    const transfer: ArrayBuffer[] = [];
    if (outcome.ok) {
      if (outcome.buckets) transfer.push(outcome.buckets.buffer as ArrayBuffer);
      if (outcome.curve) transfer.push(outcome.curve.ts.buffer as ArrayBuffer, outcome.curve.equity.buffer as ArrayBuffer, outcome.curve.exposure.buffer as ArrayBuffer);
    }
    port.postMessage({ type: "result", id: m.id, outcome } satisfies FromWorker, transfer);
  });
  port.postMessage({ type: "loaded" } satisfies FromWorker);
}
