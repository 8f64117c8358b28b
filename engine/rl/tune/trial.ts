/**
 * One tuning trial: a TrainingSession with the trial's configuration, trained
 * to the end, then scored on the VALIDATION span only (never the test span):
 *   trading:  validation Sharpe (maximise) and validation max drawdown
 *             (minimise), from session.policyMetricsOn("validation");
 *   cartpole: the mean return of the greedy policy over 100 fresh evaluation
 *             episodes (session.evaluate(), a seed unrelated to training),
 *             the single objective (a documented fallback: CartPole has no
 *             validation span).
 * Shared by the in-process runner and the worker threads, so both compute
 * the same numbers. Never throws: a failure is an outcome. A stop
 * (`shouldStop`) is seen between training iterations and gives a cancelled
 * outcome with the steps trained so far. The trainer's ONNX Runtime session
 * is always released when the trial ends (finished, failed or cancelled), on
 * the thread that ran it, never in the middle of a native call.
 */
import type { Metrics } from "../../core/metrics";
import type { BarColumns, Instrument } from "../../data/types";
import type { TrainConfig } from "../train/config";
import { TrainingSession } from "../train/session";

export type RlObjectives = { label: "validation"; valSharpe: number; valMaxDrawdown: number } | { label: "validation"; evalReturn: number };

export interface ValidationReport {
  label: "validation";
  metrics: Metrics;
  finalValue: number;
  fills: number;
  /** First and last bar of the validation span (bar start times, ISO). */
  from: string;
  to: string;
}

export type TrialOutcome =
  | { ok: true; objectives: RlObjectives; validation?: ValidationReport; steps: number; seconds: number }
  | { ok: false; error: string; seconds: number; cancelled?: boolean; /** Environment steps trained before a stop (cancelled trials that had started). */ steps?: number };

/** The series every trading trial trains on (loaded once per search / worker). */
export interface TrialData {
  bars: BarColumns;
  instrument: Instrument;
}

export interface RunTrialOptions {
  /** Polled before each training iteration (in-process, and in a worker where a "stop" message sets it). */
  shouldStop?: () => boolean;
  /**
   * Yield to the event loop (setImmediate) after this much training time. In-process runs keep the
   * host responsive; a worker needs it to receive its "stop" message at all. 0 = never.
   */
  yieldEveryMs?: number;
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

export async function runTrial(config: TrainConfig, data: TrialData | null, opts: RunTrialOptions = {}): Promise<TrialOutcome> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  let session: TrainingSession | null = null;
  try {
    session = await TrainingSession.create(config, {
      loadBars: async () => {
        if (!data) throw new Error("no market data was given to the tuning run");
        return data;
      },
    });
    let lastYield = performance.now();
    while (!session.done) {
      if (opts.shouldStop?.()) return { ok: false, error: "cancelled", cancelled: true, steps: session.globalStep, seconds: seconds() };
      session.step();
      if (opts.yieldEveryMs && performance.now() - lastYield > opts.yieldEveryMs) {
        await yieldNow();
        lastYield = performance.now();
      }
    }
    if (config.env === "cartpole") {
      const ev = session.evaluate().evaluation;
      if (!ev || !Number.isFinite(ev.meanReturn)) return { ok: false, error: "the evaluation gave no finite mean return", seconds: seconds() };
      return { ok: true, objectives: { label: "validation", evalReturn: ev.meanReturn }, steps: session.globalStep, seconds: seconds() };
    }
    // the validation span only: tuning must never look at the test span
    const v = session.policyMetricsOn("validation");
    const m = v.metrics;
    if (!Number.isFinite(m.sharpe)) return { ok: false, error: `validation Sharpe is ${m.sharpe}`, seconds: seconds() };
    if (!Number.isFinite(m.maxDrawdownPct)) return { ok: false, error: `validation max drawdown is ${m.maxDrawdownPct}`, seconds: seconds() };
    const iso = (ts: number) => (Number.isFinite(ts) ? new Date(ts).toISOString() : "");
    return {
      ok: true,
      objectives: { label: "validation", valSharpe: m.sharpe, valMaxDrawdown: m.maxDrawdownPct },
      validation: { label: "validation", metrics: m, finalValue: v.finalValue, fills: v.fills, from: iso(m.startTs), to: iso(m.endTs) },
      steps: session.globalStep,
      seconds: seconds(),
    };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e), seconds: seconds() };
  } finally {
    // release the ORT training session now (between native calls), not whenever the thread ends
    try {
      session?.algo.dispose();
    } catch {
      // a failing release must not turn a result into a failure
    }
  }
}
