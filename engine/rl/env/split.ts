/**
 * Splitting data by time for honest evaluation: train, validation (tuning)
 * and test spans in that order, with an embargo of bars between them so that
 * no observation window of a later span reaches into an earlier one; and
 * optional walk-forward folds inside the development part (train +
 * validation). The test span is never part of any fold: it is touched once,
 * at the end, for the out-of-sample report.
 */

/** Bars [from, to). */
export interface Span {
  from: number;
  to: number;
}

export interface TimeSplit {
  train: Span;
  validation: Span;
  test: Span;
  /** Bars left out between consecutive spans. */
  embargo: number;
}

export interface Fold {
  index: number;
  train: Span;
  validation: Span;
}

export class SplitError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "SplitError";
  }
}

export interface SplitOptions {
  /** Fractions of the usable bars (after `start` and the embargoes); they must sum to <= 1. */
  train: number;
  validation: number;
  test: number;
  /** Bars left out between spans: at least the observation window (default 0). */
  embargo?: number;
  /** First usable bar (e.g. the features' warm-up), default 0. */
  start?: number;
  /** Minimum bars per span (default 2). */
  minBars?: number;
}

/** Split bars [start, length) by time into train | embargo | validation | embargo | test. */
export function splitByTime(length: number, opts: SplitOptions): TimeSplit {
  const embargo = opts.embargo ?? 0;
  const start = opts.start ?? 0;
  const minBars = opts.minBars ?? 2;
  for (const k of ["train", "validation", "test"] as const) {
    const v = opts[k];
    if (!(v > 0 && v < 1)) throw new SplitError(k, `must be a fraction in (0, 1), got ${v}`);
  }
  if (opts.train + opts.validation + opts.test > 1 + 1e-12) throw new SplitError("test", `train + validation + test must be <= 1, got ${opts.train + opts.validation + opts.test}`);
  if (!(Number.isInteger(embargo) && embargo >= 0)) throw new SplitError("embargo", `must be an integer >= 0, got ${embargo}`);
  if (!(Number.isInteger(start) && start >= 0 && start < length)) throw new SplitError("start", `must be an integer in [0, ${length}), got ${start}`);
  const usable = length - start - 2 * embargo;
  const nTrain = Math.floor(usable * opts.train);
  const nVal = Math.floor(usable * opts.validation);
  const nTest = Math.floor(usable * opts.test);
  const train = { from: start, to: start + nTrain };
  const validation = { from: train.to + embargo, to: train.to + embargo + nVal };
  // the test span takes the most recent bars
  const test = { from: length - nTest, to: length };
  if (test.from < validation.to + embargo) test.from = validation.to + embargo;
  const split = { train, validation, test, embargo };
  for (const k of ["train", "validation", "test"] as const) {
    const s = split[k];
    if (s.to - s.from < minBars) throw new SplitError(k, `only ${Math.max(0, s.to - s.from)} bars (need >= ${minBars}); ${length} bars, start ${start}, embargo ${embargo}`);
  }
  assertSplit(split);
  return split;
}

/** Split by timestamps: train before trainEnd, validation from there to validationEnd, test after (all exclusive ends, UTC ms). */
export function splitByDates(ts: Float64Array, length: number, opts: { trainEnd: number; validationEnd: number; embargo?: number; start?: number }): TimeSplit {
  const embargo = opts.embargo ?? 0;
  const lower = (x: number) => {
    let a = 0;
    let b = length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (ts[m]! < x) a = m + 1;
      else b = m;
    }
    return a;
  };
  if (!(opts.validationEnd > opts.trainEnd)) throw new SplitError("validationEnd", "must be after trainEnd");
  const a = lower(opts.trainEnd);
  const b = lower(opts.validationEnd);
  const split = { train: { from: opts.start ?? 0, to: a }, validation: { from: a + embargo, to: b }, test: { from: b + embargo, to: length }, embargo };
  for (const k of ["train", "validation", "test"] as const) {
    const s = split[k];
    if (s.to - s.from < 2) throw new SplitError(k, `holds ${Math.max(0, s.to - s.from)} bars`);
  }
  assertSplit(split);
  return split;
}

/**
 * Walk-forward folds over the development part [train.from, validation.to):
 * the part is cut into folds + 1 blocks; fold i validates on block i + 1 and
 * trains on blocks 0..i (anchored, the default) or on block i alone (rolling),
 * with the embargo between train and validation. The test span is not used.
 */
export function walkForwardFolds(split: TimeSplit, opts: { folds: number; anchored?: boolean }): Fold[] {
  const k = opts.folds;
  if (!(Number.isInteger(k) && k >= 1)) throw new SplitError("folds", `must be an integer >= 1, got ${k}`);
  const from = split.train.from;
  const to = split.validation.to;
  const block = Math.floor((to - from) / (k + 1));
  if (block - split.embargo < 2) throw new SplitError("folds", `${k} folds over ${to - from} development bars leave blocks of ${block} bars (embargo ${split.embargo})`);
  const folds: Fold[] = [];
  for (let i = 0; i < k; i++) {
    const vFrom = from + (i + 1) * block;
    const vTo = i === k - 1 ? to : vFrom + block;
    const train = { from: opts.anchored === false ? from + i * block : from, to: vFrom - split.embargo };
    const validation = { from: vFrom, to: vTo };
    folds.push({ index: i, train, validation });
  }
  for (const f of folds) {
    assertDisjoint(f.validation, split.test, "fold validation", "test");
    assertDisjoint(f.train, split.test, "fold train", "test");
    if (f.validation.to > split.test.from - split.embargo) throw new SplitError("folds", `fold ${f.index} ends within the embargo before the test span`);
  }
  return folds;
}

function assertDisjoint(a: Span, b: Span, an: string, bn: string): void {
  if (a.from < b.to && b.from < a.to) throw new SplitError(bn, `${an} [${a.from}, ${a.to}) overlaps ${bn} [${b.from}, ${b.to})`);
}

/** The guarantees of a split: ordered in time, disjoint, separated by the embargo. Throws SplitError otherwise. */
export function assertSplit(s: TimeSplit): void {
  const order: [string, Span][] = [
    ["train", s.train],
    ["validation", s.validation],
    ["test", s.test],
  ];
  for (const [name, sp] of order) if (!(sp.from < sp.to)) throw new SplitError(name, `empty span [${sp.from}, ${sp.to})`);
  if (s.validation.from < s.train.to + s.embargo) throw new SplitError("validation", `starts at ${s.validation.from}, within ${s.embargo} bars of the training span's end ${s.train.to}`);
  if (s.test.from < s.validation.to + s.embargo) throw new SplitError("test", `starts at ${s.test.from}, within ${s.embargo} bars of the validation span's end ${s.validation.to}`);
  assertDisjoint(s.train, s.test, "train", "test");
  assertDisjoint(s.validation, s.test, "validation", "test");
}

/** "in-sample" for spans inside training or tuning data, "out-of-sample" for the test span. */
export function sampleLabel(split: TimeSplit, span: Span): "in-sample" | "out-of-sample" {
  return span.from >= split.test.from && span.to <= split.test.to ? "out-of-sample" : "in-sample";
}
