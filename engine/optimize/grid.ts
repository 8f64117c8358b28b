/**
 * Grid search: every point of the space (up to GRID_LIMIT) that the
 * strategy's own check accepts, each one backtest. Points are evaluated in
 * grid order (first parameter slowest); results do not depend on how many
 * workers ran them.
 */
import type { ParamValue } from "../core/strategies/builtin";
import { type OverfitStats, type SearchContext, type Trial, TrialCollector, type TrialRecord, taskFor } from "./search";
import { enumerateGrid, type ParamSpace } from "./space";

export interface GridResult {
  trials: Trial[];
  /** Internal: trials with their index vectors and return statistics. */
  records: TrialRecord[];
  /** Valid grid points (= trials planned). */
  total: number;
  /** Points the strategy's check rejected (e.g. fast >= slow). */
  skipped: number;
  skippedExamples: string[];
  best: Trial | null;
  bestRecord: TrialRecord | null;
  stopped: boolean;
  overfit: OverfitStats;
}

export async function gridSearch(ctx: SearchContext): Promise<GridResult> {
  const grid = enumerateGrid(ctx.space);
  const tasks = grid.points.map((idx) => taskFor(ctx, idx));
  const col = new TrialCollector(ctx);
  await ctx.evaluator.run(tasks, { shouldStop: ctx.shouldStop, onResult: (i, o) => col.add(i, grid.points[i]!, o) });
  const records = col.list();
  return {
    trials: records.map((r) => r.trial),
    records,
    total: grid.points.length,
    skipped: grid.skipped,
    skippedExamples: grid.skippedExamples,
    best: col.best?.trial ?? null,
    bestRecord: col.best,
    stopped: col.stopped || records.length < tasks.length,
    overfit: col.overfit(),
  };
}

export interface Heatmap {
  x: { param: string; values: ParamValue[] };
  /** null when the space has a single parameter (one row). */
  y: { param: string; values: ParamValue[] } | null;
  /** z[yi][xi]: the best objective value over the other parameters at that cell; null = no successful trial. */
  z: (number | null)[][];
  objective: string;
  better: "higher" | "lower";
}

/**
 * Objective values over two parameters. When the space varies more than
 * those two, each cell holds the best value over the others (the cell's
 * trial is the best combination with that x and y).
 */
export function heatmap(space: ParamSpace, records: TrialRecord[], objective: string, better: "higher" | "lower", x: string, y?: string): Heatmap {
  const xi = space.dims.findIndex((d) => d.name === x);
  const yi = y === undefined ? -1 : space.dims.findIndex((d) => d.name === y);
  if (xi < 0) throw new RangeError(`heatmap: ${x} is not in the space`);
  if (y !== undefined && yi < 0) throw new RangeError(`heatmap: ${y} is not in the space`);
  const xd = space.dims[xi]!;
  const yd = yi >= 0 ? space.dims[yi]! : null;
  const z: (number | null)[][] = Array.from({ length: yd ? yd.size : 1 }, () => new Array<number | null>(xd.size).fill(null));
  const bestScore: number[][] = z.map((row) => row.map(() => -Infinity));
  for (const r of records) {
    if (!r.trial.ok || r.trial.objective === null) continue;
    const cx = r.idx[xi]!;
    const cy = yi >= 0 ? r.idx[yi]! : 0;
    if (r.score > bestScore[cy]![cx]!) {
      bestScore[cy]![cx] = r.score;
      z[cy]![cx] = r.trial.objective;
    }
  }
  return { x: { param: xd.name, values: xd.values() }, y: yd ? { param: yd.name, values: yd.values() } : null, z, objective, better };
}
