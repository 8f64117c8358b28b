/**
 * The market-data port. Replays implement it now; live adapters (Interactive
 * Brokers, Binance) will implement the same interface, so strategies and the
 * UI consume a feed without knowing where it comes from.
 */
import type { Bar } from "./types";

export interface FeedBar {
  type: "bar";
  symbol: string;
  timeframe: string;
  bar: Bar;
}

/** A trade tick; `derived` when it was generated from a bar (replay), not printed by an exchange. */
export interface FeedTick {
  type: "tick";
  symbol: string;
  ts: number;
  price: number;
  size: number;
  derived: boolean;
}

export type FeedEvent = FeedBar | FeedTick;
export type FeedListener = (event: FeedEvent) => void;

export type FeedState = "idle" | "playing" | "paused" | "finished" | "stopped";

export interface FeedStatus {
  state: FeedState;
  symbol: string;
  timeframe: string;
  /** Index of the next bar to emit. */
  position: number;
  total: number;
  /** Start time of the last emitted bar (UTC ms), null before the first. */
  currentTs: number | null;
  speed: number | "max";
}

export interface MarketDataFeed {
  subscribe(listener: FeedListener): () => void;
  status(): FeedStatus;
  stop(): void;
}

/** Timers, injectable so replays can be tested without waiting. */
export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  setTimeout: (fn, ms) => (ms <= 0 ? setImmediate(fn) : setTimeout(fn, ms)),
  clearTimeout: (h) => {
    clearTimeout(h as NodeJS.Timeout);
    clearImmediate(h as NodeJS.Immediate);
  },
};
