/**
 * The engine's event stream: every event gets a strictly increasing numeric id
 * and is kept in a bounded ring buffer so that a subscriber that reconnects
 * with its last seen id gets exactly the events it missed (no loss, no repeat)
 * as long as they are still buffered. Pure: no I/O, time comes from a Clock.
 */

export interface Clock {
  now(): number; // epoch milliseconds
}

export const systemClock: Clock = { now: () => Date.now() };

export interface HeartbeatData {
  pid: number;
  startedAt: string;
  uptimeS: number;
  cpuPct: number; // process CPU time / wall time, % of one core
  cores: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  loopLagP99Ms: number;
}

export interface ReplayBarData { replayId: string; symbol: string; timeframe: string; ts: number; open: number; high: number; low: number; close: number; volume: number }
export interface ReplayTickData { replayId: string; symbol: string; ts: number; price: number; size: number; derived: boolean }
export interface ReplayStateData { replayId: string; state: string; symbol: string; timeframe: string; position: number; total: number; currentTs: number | null; speed: number | "max" }
export interface ImportProgressData { uploadId: string; symbol: string; timeframe: string; fileName: string; bytesRead: number; totalBytes: number | null; rowsRead: number; stored: number; quarantined: number; done: boolean; error: string | null }

export interface BacktestProgressData { runId: string; strategy: string; symbol: string; timeframe: string; done: number; total: number; status: "running" | "done" | "failed" | "cancelled"; error: string | null; finalValue: number | null; fills: number | null }
export interface OptimizeProgressData { optimizationId: string; kind: string; done: number; total: number; status: "running" | "done" | "failed" | "cancelled"; error: string | null; best: { params: Record<string, unknown>; objective: number } | null }

/** One point of an RL tuning's current Pareto front (validation objectives). */
export interface TuneFrontPoint { id: number; hyperparams: Record<string, number | boolean | string>; objectives: { label: "validation"; valSharpe: number; valMaxDrawdown: number } | { label: "validation"; evalReturn: number } }
/** RL hyperparameter search progress: `generation` is the one being evaluated (0 = the initial population); done / total count individuals over the whole search. */
export interface TuneProgressData { tuneId: string; generation: number; done: number; total: number; status: "queued" | "running" | "stopped" | "done" | "failed"; error: string | null; front: TuneFrontPoint[] }

export interface TrainProgressData { runId: string; name: string; status: string; step: number; totalSteps: number; point: import("./rl/train/session").CurvePoint | null; error: string | null; modelId: string | null }

export type EngineEventPayload =
  | { type: "heartbeat"; data: HeartbeatData }
  | { type: "replay.bar"; data: ReplayBarData }
  | { type: "replay.tick"; data: ReplayTickData }
  | { type: "replay.state"; data: ReplayStateData }
  | { type: "import.progress"; data: ImportProgressData }
  | { type: "backtest.progress"; data: BacktestProgressData }
  | { type: "optimize.progress"; data: OptimizeProgressData }
  | { type: "train.progress"; data: TrainProgressData }
  | { type: "tune.progress"; data: TuneProgressData };

export type EngineEvent = EngineEventPayload & { id: number; ts: string };

export type Listener = (event: EngineEvent) => void;

export interface ReplayResult {
  events: EngineEvent[];
  /** Set when the caller's last id is older than the buffer: events in (from, to) are gone. */
  gap?: { from: number; to: number };
}

export class EventBus {
  private readonly buffer: (EngineEvent | undefined)[];
  private head = 0; // index of the next write
  private size = 0;
  private nextId: number;
  private readonly listeners = new Set<Listener>();
  /** The first id this bus will ever hand out. */
  readonly firstId: number;

  /**
   * @param capacity events kept for resumption
   * @param firstId  ids start here; main.ts uses epoch-ms x 1000 so that ids keep
   *                 increasing across engine restarts (at under 1M events/s).
   */
  constructor(
    private readonly capacity = 4096,
    firstId = 1,
    private readonly clock: Clock = systemClock,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("capacity must be a positive integer");
    if (!Number.isSafeInteger(firstId) || firstId < 1) throw new RangeError("firstId must be a positive safe integer");
    this.buffer = new Array(capacity);
    this.nextId = firstId;
    this.firstId = firstId;
  }

  publish(payload: EngineEventPayload): EngineEvent {
    const event = { ...payload, id: this.nextId++, ts: new Date(this.clock.now()).toISOString() } as EngineEvent;
    this.buffer[this.head] = event;
    this.head = (this.head + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A faulty subscriber must not stop the stream for others.
      }
    }
    return event;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  get lastId(): number | undefined {
    return this.size === 0 ? undefined : this.nextId - 1;
  }

  get oldestId(): number | undefined {
    return this.size === 0 ? undefined : this.nextId - this.size;
  }

  /** Buffered events with id > afterId (all of them when afterId is undefined). */
  since(afterId: number | undefined): ReplayResult {
    const all = this.snapshot();
    if (afterId === undefined) return { events: all };
    const oldest = this.oldestId ?? this.nextId;
    const events = all.filter((e) => e.id > afterId);
    if (afterId < oldest - 1) return { events, gap: { from: afterId, to: oldest } };
    if (afterId >= this.nextId) {
      // An id this bus never issued (from another run, or forged): resend everything.
      return { events: all, gap: { from: afterId, to: oldest } };
    }
    return { events };
  }

  private snapshot(): EngineEvent[] {
    const out: EngineEvent[] = [];
    const start = (this.head - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const e = this.buffer[(start + i) % this.capacity];
      if (e) out.push(e);
    }
    return out;
  }
}

/** Parses a Last-Event-ID value; anything that is not a non-negative integer is ignored. */
export function parseLastEventId(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (!/^\d{1,16}$/.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Serialises an event in the text/event-stream format. */
export function formatSse(event: EngineEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
