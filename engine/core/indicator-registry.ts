/**
 * Indicators a strategy asked the engine for. The engine feeds each one every
 * bar before the strategy's onBar, so a strategy reads values, never computes
 * them from data it should not see yet.
 */
import { createIndicator, INDICATOR_INPUTS, type IndicatorSpec } from "./indicators";

export type IndicatorSource = "close" | "open" | "high" | "low" | "hl2" | "hlc3" | "ohlc4" | "volume";

interface SingleInput {
  update(x: number): number;
}
interface BarInput {
  update(high: number, low: number, close: number, volume?: number): number;
}
interface Readable {
  readonly value: number;
  readonly ready: boolean;
  read(output: string): number;
  reset(): void;
}

export interface IndicatorHandle {
  readonly spec: IndicatorSpec;
  /** Main output (NaN until warmed up). */
  readonly value: number;
  readonly ready: boolean;
  /** A named output, e.g. "upper" of Bollinger, "signal" of MACD. */
  read(output: string): number;
  /** Value `ago` bars back (0 = now); history kept up to `keep` bars. */
  prev(ago: number, output?: string): number;
}

class Handle implements IndicatorHandle {
  readonly spec: IndicatorSpec;
  readonly impl: Readable & (SingleInput | BarInput);
  readonly bar: boolean;
  readonly source: IndicatorSource;
  private hist: Float64Array | null = null;
  private histOut: string | undefined;
  private n = 0;

  constructor(spec: IndicatorSpec, source: IndicatorSource) {
    this.spec = spec;
    this.impl = createIndicator(spec) as unknown as Readable & (SingleInput | BarInput);
    this.bar = INDICATOR_INPUTS[spec.kind] === "bar";
    this.source = source;
  }
  get value(): number {
    return this.impl.value;
  }
  get ready(): boolean {
    return this.impl.ready;
  }
  read(output: string): number {
    return this.impl.read(output);
  }
  /** Keep the last `keep` values of one output for prev(). */
  keepHistory(keep: number, output?: string): void {
    if (!this.hist || this.hist.length < keep + 1) this.hist = new Float64Array(keep + 1).fill(NaN);
    this.histOut = output;
  }
  record(): void {
    const h = this.hist;
    if (!h) return;
    h[this.n % h.length] = this.histOut ? this.impl.read(this.histOut) : this.impl.value;
    this.n++;
  }
  prev(ago: number, output?: string): number {
    if (ago === 0) return output ? this.impl.read(output) : this.impl.value;
    const h = this.hist;
    if (!h || ago >= h.length || ago >= this.n || output !== this.histOut) return NaN;
    return h[(this.n - 1 - ago) % h.length]!;
  }
}

export class IndicatorRegistry {
  private readonly single: Handle[] = [];
  private readonly bars: Handle[] = [];
  private readonly all: Handle[] = [];
  private readonly tracked: Handle[] = [];

  add(spec: IndicatorSpec, source: IndicatorSource = "close"): IndicatorHandle {
    const h = new Handle(spec, source);
    (h.bar ? this.bars : this.single).push(h);
    this.all.push(h);
    return h;
  }

  /** Keep `keep` bars of history for prev() on a handle. */
  track(handle: IndicatorHandle, keep: number, output?: string): void {
    const h = handle as Handle;
    h.keepHistory(keep, output);
    if (!this.tracked.includes(h)) this.tracked.push(h);
  }

  get size(): number {
    return this.all.length;
  }

  /** Every indicator reads only the close (the common case: a cheaper update). */
  get closeOnly(): boolean {
    return this.bars.length === 0 && this.tracked.length === 0 && this.single.every((h) => h.source === "close");
  }

  updateClose(c: number): void {
    const s = this.single;
    for (let k = 0; k < s.length; k++) (s[k]!.impl as SingleInput).update(c);
  }

  update(o: number, h: number, l: number, c: number, v: number): void {
    const s = this.single;
    for (let k = 0; k < s.length; k++) {
      const x = s[k]!;
      let input = c;
      switch (x.source) {
        case "close":
          break;
        case "open":
          input = o;
          break;
        case "high":
          input = h;
          break;
        case "low":
          input = l;
          break;
        case "hl2":
          input = (h + l) / 2;
          break;
        case "hlc3":
          input = (h + l + c) / 3;
          break;
        case "ohlc4":
          input = (o + h + l + c) / 4;
          break;
        case "volume":
          input = v;
          break;
      }
      (x.impl as SingleInput).update(input);
    }
    const b = this.bars;
    for (let k = 0; k < b.length; k++) (b[k]!.impl as BarInput).update(h, l, c, v);
    const t = this.tracked;
    for (let k = 0; k < t.length; k++) t[k]!.record();
  }

  reset(): void {
    for (const h of this.all) h.impl.reset();
  }
}
