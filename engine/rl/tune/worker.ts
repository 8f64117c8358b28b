/**
 * The worker-thread side of tune/pool.ts: receives the trading series once
 * (bars in shared memory + the instrument record), then runs one trial per
 * message with the same runTrial as the in-process runner. Loaded by
 * pool.ts's eval'd bootstrap after it has registered tsx; does nothing when
 * imported elsewhere.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { TrainConfig } from "../train/config";
import { runTrial, type TrialData, type TrialOutcome } from "./trial";

export const WORKER_FLAG = "tradeforgeRlTuneWorker";

export type ToWorker = { type: "init"; data: TrialData | null } | { type: "eval"; id: number; config: TrainConfig };
export type FromWorker = { type: "loaded" } | { type: "ready" } | { type: "result"; id: number; outcome: TrialOutcome } | { type: "fatal"; message: string };

const port = parentPort;
if (port && (workerData as Record<string, unknown> | null)?.[WORKER_FLAG] === true) {
  let data: TrialData | null = null;
  let chain: Promise<void> = Promise.resolve();
  port.on("message", (m: ToWorker) => {
    if (m.type === "init") {
      data = m.data;
      port.postMessage({ type: "ready" } satisfies FromWorker);
      return;
    }
    // one trial at a time, in arrival order
    chain = chain.then(async () => {
      const outcome = await runTrial(m.config, data);
      port.postMessage({ type: "result", id: m.id, outcome } satisfies FromWorker);
    });
  });
  port.postMessage({ type: "loaded" } satisfies FromWorker);
}
