/**
 * Replays stored series on the engine's event stream, driven by commands:
 *   {type:"replay.start", symbol, timeframe, speed?, ticks?, from?}
 *   {type:"replay.pause"|"replay.resume"|"replay.stop"|"replay.status"}
 *   {type:"replay.seek", ts}   {type:"replay.speed", speed}
 * One replay at a time (starting a new one stops the old one).
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { calendarFor } from "./data/calendar";
import { ReplayFeed } from "./data/replay";
import { resample } from "./data/resample";
import { TIMEFRAMES, TIMEFRAME_MS, type BarColumns, type Timeframe } from "./data/types";
import type { EventBus } from "./events";
import { getInstrument } from "./store/instruments";
import { listSeries, loadSeries } from "./store/series";
import type { Sql } from "./store/sql";

const speed = z.union([z.literal("max"), z.number().positive().max(1_000_000)]);
const commandSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("replay.start"), symbol: z.string().min(1), timeframe: z.enum(TIMEFRAMES), speed: speed.default(1), ticks: z.boolean().default(false), from: z.number().optional() }),
  z.object({ type: z.literal("replay.pause") }),
  z.object({ type: z.literal("replay.resume") }),
  z.object({ type: z.literal("replay.stop") }),
  z.object({ type: z.literal("replay.status") }),
  z.object({ type: z.literal("replay.seek"), ts: z.number() }),
  z.object({ type: z.literal("replay.speed"), speed }),
]);

export class ReplayService {
  private feed: ReplayFeed | null = null;
  private replayId = "";
  private lastStateAt = 0;

  constructor(
    private readonly sql: Sql,
    private readonly bus: EventBus,
  ) {}

  /** Handles replay.* commands; undefined for anything else. */
  async handle(body: unknown): Promise<{ status: number; body: unknown } | undefined> {
    const type = (body as { type?: unknown } | null)?.type;
    if (typeof type !== "string" || !type.startsWith("replay.")) return undefined;
    const parsed = commandSchema.safeParse(body);
    if (!parsed.success) return { status: 400, body: { error: "invalid command", fieldErrors: z.flattenError(parsed.error).fieldErrors, formErrors: z.flattenError(parsed.error).formErrors } };
    const cmd = parsed.data;
    try {
      switch (cmd.type) {
        case "replay.start":
          await this.start(cmd.symbol, cmd.timeframe, cmd.speed, cmd.ticks, cmd.from);
          break;
        case "replay.pause":
          this.need().pause();
          break;
        case "replay.resume":
          this.need().resume();
          break;
        case "replay.stop":
          this.need().stop();
          break;
        case "replay.seek":
          this.need().seek(cmd.ts);
          break;
        case "replay.speed":
          this.need().setSpeed(cmd.speed);
          break;
        case "replay.status":
          break;
      }
    } catch (err) {
      return { status: 400, body: { error: (err as Error).message } };
    }
    const status = this.feed ? { replayId: this.replayId, ...this.feed.status() } : null;
    if (status) this.publishState(true);
    return { status: 200, body: { ok: true, replay: status } };
  }

  private need(): ReplayFeed {
    if (!this.feed) throw new Error("no replay is running; start one with replay.start");
    return this.feed;
  }

  private async start(symbol: string, timeframe: Timeframe, speed: number | "max", ticks: boolean, from?: number): Promise<void> {
    const instrument = await getInstrument(this.sql, symbol);
    if (!instrument) throw new Error(`unknown symbol ${symbol}`);
    const stored = (await listSeries(this.sql, symbol)).filter((s) => s.kind === "bars" && s.count > 0 && (TIMEFRAMES as readonly string[]).includes(s.timeframe));
    const wanted = TIMEFRAME_MS[timeframe];
    const source = stored.find((s) => s.timeframe === timeframe) ?? stored.filter((s) => TIMEFRAME_MS[s.timeframe as Timeframe] < wanted && wanted % TIMEFRAME_MS[s.timeframe as Timeframe] === 0).sort((a, b) => TIMEFRAME_MS[b.timeframe as Timeframe] - TIMEFRAME_MS[a.timeframe as Timeframe])[0];
    if (!source) throw new Error(`no stored bars for ${symbol} at ${timeframe} or finer`);
    const cols = await loadSeries(this.sql, source);
    let bars: BarColumns = { length: cols.length, ts: cols.f[0]!, open: cols.f[1]!, high: cols.f[2]!, low: cols.f[3]!, close: cols.f[4]!, volume: cols.f[5]! };
    if (source.timeframe !== timeframe) bars = resample(bars, source.timeframe as Timeframe, timeframe, calendarFor(instrument.calendar));
    this.feed?.stop();
    const id = randomUUID();
    const feed = new ReplayFeed(bars, { symbol, timeframe, stepMs: wanted, speed, ticks });
    feed.subscribe((e) => {
      if (e.type === "bar") this.bus.publish({ type: "replay.bar", data: { replayId: id, symbol: e.symbol, timeframe: e.timeframe, ...e.bar } });
      else this.bus.publish({ type: "replay.tick", data: { replayId: id, symbol: e.symbol, ts: e.ts, price: e.price, size: e.size, derived: e.derived } });
      this.publishState(false);
    });
    feed.onStateChange(() => {
      if (this.feed === feed) this.publishState(true);
    });
    this.feed = feed;
    this.replayId = id;
    if (from !== undefined) feed.seek(from);
    feed.play();
  }

  /** State events at most every 500 ms while playing, and on every command. */
  private publishState(force: boolean): void {
    if (!this.feed) return;
    const now = Date.now();
    const st = this.feed.status();
    if (!force && now - this.lastStateAt < 500 && st.state === "playing") return;
    this.lastStateAt = now;
    this.bus.publish({ type: "replay.state", data: { replayId: this.replayId, ...st } });
  }

  stop(): void {
    this.feed?.stop();
  }
}
