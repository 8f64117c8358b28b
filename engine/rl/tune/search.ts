/**
 * Genetic hyperparameter search for reinforcement learning (issue 5 item 7):
 * a population over algorithm and network hyperparameters (space.ts), NSGA-II
 * style, multi-objective on the VALIDATION span.
 *
 * Objectives (every figure is labelled "validation"):
 *   trading:  maximise validation Sharpe (valSharpe) and minimise validation
 *             max drawdown (valMaxDrawdown, a positive fraction), both from
 *             TrainingSession.policyMetricsOn("validation"). The test span is
 *             never touched: a tuned run stays honest out of sample.
 *   cartpole: maximise the greedy evaluation mean return over 100 fresh
 *             episodes (evalReturn), the single objective (documented
 *             fallback: CartPole has no validation span).
 *
 * Algorithm (the same semantics as engine/optimize/genetic.ts, whose
 * nonDominatedSort / crowdingDistance / nsgaOrder are imported):
 * - Genome: one index per dimension into its ordered values.
 * - Generation 0: `population` distinct random genomes.
 * - Each generation: parents by binary tournament on (front rank, then
 *   crowding distance); uniform crossover with probability crossoverRate (else
 *   a copy of the first parent); each gene mutates with probability
 *   mutationRate (numeric hyperparameters move a few steps along their ordered
 *   values, booleans and enums jump); a child already evaluated is mutated
 *   again (up to 20 times).
 * - Survivors: the first `elite` slots go to the best of parents + children
 *   by NSGA-II order; the other slots to the best children (elite =
 *   population is plain NSGA-II mu + lambda, 0 a generational GA).
 * - Failed trials rank behind every successful one.
 * - Evaluations are cached by genome: a repeated genome costs nothing.
 * - The Pareto front is over every successful trial evaluated.
 *
 * Each trial is a TrainingSession of the base configuration with the
 * genome's hyperparameters and a seed derived from (search seed, genome), so
 * the same genome always trains the same way. Everything random in the search
 * comes from one xoshiro128** stream (engine/rl/rng.ts) seeded with the search
 * seed; the draws never depend on timing or completion order, so a seed gives
 * the same trials and objectives with any number of workers.
 *
 * Resumable: after every generation the whole search state (population,
 * evaluated trials with their objectives, generation index, PRNG state) is a
 * plain JSON value given to hooks.onState; runRlTuning(job, deps, hooks,
 * state) or resumeRlTuning(state, ...) continues exactly (more generations may
 * be asked for). A stop in the middle of a generation keeps the trials that
 * finished (state.partial); the resumed run replays that generation and uses
 * them instead of training them again.
 */
import { z } from "zod";
import { crowdingDistance, nonDominatedSort, nsgaOrder } from "../../optimize/genetic";
import { Rng, type RngState } from "../rng";
import { parseTrainConfig, TrainConfigError, type TrainConfig, type TrainConfigInput } from "../train/config";
import type { TrainDeps } from "../train/session";
import { createRunner, defaultPoolSize, type TrialRunner } from "./pool";
import { buildRlSpace, type Genome, type HyperValue, type RlSpace, type RlSpaceSpec } from "./space";
import type { RlObjectives, TrialData, TrialOutcome, ValidationReport } from "./trial";

export type { RlObjectives, ValidationReport } from "./trial";

const intSchema = () => z.number().int("must be a whole number");

export const RlTuneJobSchema = z
  .object({
    /** The training configuration every trial starts from (env trading or cartpole). */
    base: z.unknown(),
    space: z.unknown(),
    population: intSchema().min(2).max(1000),
    /** Generations after the initial population (0 = evaluate the initial population only). */
    generations: intSchema().min(0).max(10_000),
    mutationRate: z.number().min(0).max(1).default(0.2),
    crossoverRate: z.number().min(0).max(1).default(0.9),
    /** Survivor slots open to parents; default a quarter of the population. */
    elite: intSchema().min(0).optional(),
    seed: intSchema().min(0).max(2 ** 31 - 1).default(1),
    /** Worker threads; 0 = in-process; default min(cores, 2). */
    workers: intSchema().min(0).max(64).optional(),
  })
  .strict();

export interface RlTuneJobInput {
  base: TrainConfigInput;
  space: RlSpaceSpec;
  population: number;
  generations: number;
  mutationRate?: number;
  crossoverRate?: number;
  elite?: number;
  seed?: number;
  workers?: number;
}

/** A validated job: defaults applied, base parsed (so it is plain JSON). */
export interface RlTuneJob {
  base: TrainConfig;
  space: RlSpaceSpec;
  population: number;
  generations: number;
  mutationRate: number;
  crossoverRate: number;
  elite: number;
  seed: number;
  workers?: number;
}

export class RlTuneError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message.startsWith(`${field}:`) ? message : `${field}: ${message}`);
    this.name = "RlTuneError";
  }
}

export interface RlTrial {
  /** Evaluation order (0-based). */
  id: number;
  /** The generation that first evaluated this genome. */
  generation: number;
  key: string;
  genome: Genome;
  /** The genome's values by hyperparameter name. */
  hyperparams: Record<string, HyperValue>;
  /** The trial's training seed, derived from (search seed, genome). */
  seed: number;
  status: "ok" | "failed";
  /** null for a failed trial. */
  objectives: RlObjectives | null;
  /** Trading: the full validation metrics (same metric set as backtests). */
  validation?: ValidationReport;
  steps?: number;
  error?: string;
  seconds: number;
}

export interface RlGenerationStats {
  /** 0 = the initial population. */
  generation: number;
  label: "validation";
  /** New trials trained for this generation. */
  evaluated: number;
  /** Individuals whose genome had been evaluated before. */
  cached: number;
  /** New trials that failed. */
  failed: number;
  /** Over the surviving population (trading). */
  bestValSharpe: number | null;
  meanValSharpe: number | null;
  minValMaxDrawdown: number | null;
  /** Over the surviving population (cartpole). */
  bestEvalReturn: number | null;
  meanEvalReturn: number | null;
  /** Successful survivors on the population's first non-dominated front. */
  frontSize: number;
}

export interface RlTuneState {
  kind: "rl-tune";
  version: 1;
  /** The job (without workers): resumeRlTuning runs it again. */
  job: Omit<RlTuneJob, "workers">;
  /** Identifies base, space values, population, rates, elite and seed (not generations or workers). */
  fingerprint: string;
  /** Last completed generation; -1 = none yet. */
  generation: number;
  population: Genome[];
  /** The search PRNG after `generation`. */
  rng: RngState;
  trials: RlTrial[];
  /** Trials that finished in an unfinished generation (reused on resume). */
  partial: RlTrial[];
  generations: RlGenerationStats[];
}

export interface RlFrontPoint {
  id: number;
  hyperparams: Record<string, HyperValue>;
  objectives: RlObjectives;
}

export interface RlTuneProgress {
  /** The generation being evaluated (0 = initial population). */
  generation: number;
  /** Individuals settled so far (trained, cached or reused) over the whole search. */
  done: number;
  /** population x (generations + 1). */
  total: number;
  /** The current Pareto front (validation objectives). */
  front: RlFrontPoint[];
}

export interface RlTuneHooks {
  onProgress?: (p: RlTuneProgress) => void;
  /** Polled between trials and training iterations (every 50 ms with workers). */
  shouldStop?: () => boolean;
  /** The resumable state after each completed generation (and once more on a stop mid-generation). */
  onState?: (state: RlTuneState) => void | Promise<void>;
}

export interface RlTuneDeps {
  /** Bars and instrument of the base configuration's series (trading); called once per search. */
  loadBars?: TrainDeps["loadBars"];
}

export interface RlTuneResult {
  label: "validation";
  env: "trading" | "cartpole";
  algo: "ppo" | "dqn";
  /** What the objectives are: names, direction and span. */
  objectives: { name: "valSharpe" | "valMaxDrawdown" | "evalReturn"; goal: "max" | "min"; label: "validation"; description: string }[];
  trials: RlTrial[];
  /** Non-dominated successful trials over all evaluated, best first (valSharpe or evalReturn descending). */
  pareto: RlTrial[];
  generations: RlGenerationStats[];
  /** Highest validation Sharpe (trading; ties: lower drawdown) or evaluation return (cartpole). */
  best: RlTrial | null;
  evaluations: number;
  cacheHits: number;
  failed: number;
  stopped: boolean;
  /** Worker threads used (0 = in-process, or no trial needed training). */
  workers: number;
  /** Why a worker pool was asked for but not used. */
  fallback?: string;
  seconds: number;
  state: RlTuneState;
}

const GA_STREAM = 1;
const TRIAL_STREAM = 2;

/** The training seed of a genome's trial: a function of (search seed, genome) only. */
export function trialSeed(searchSeed: number, genome: readonly number[]): number {
  return Rng.create(searchSeed, TRIAL_STREAM, ...genome).nextUint32() >>> 1;
}

/** Canonical JSON (keys sorted) for fingerprints. */
function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Validates a job: field-level errors (RlTuneError, or RlSpaceError for the space) before anything starts. */
export function parseRlTuneJob(input: unknown): { job: RlTuneJob; space: RlSpace } {
  const r = RlTuneJobSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const keys = issue.code === "unrecognized_keys" ? ((issue as { keys?: string[] }).keys ?? []) : [];
    if (keys.length) throw new RlTuneError([...issue.path.map(String), keys[0]!].join("."), `unknown setting '${keys[0]}'`);
    throw new RlTuneError(issue.path.map(String).join(".") || "job", issue.message);
  }
  const j = r.data;
  if (j.base === undefined) throw new RlTuneError("base", "a base training configuration is required");
  if (j.space === undefined) throw new RlTuneError("space", "a hyperparameter space is required");
  let base: TrainConfig;
  try {
    base = parseTrainConfig(j.base);
  } catch (e) {
    if (e instanceof TrainConfigError) throw new RlTuneError(`base.${e.field}`, e.message.slice(e.field.length + 2));
    throw e;
  }
  if (base.env === "trading" && !(base.trading!.split.validation > 0)) throw new RlTuneError("base.trading.split.validation", "tuning scores trials on the validation span, so it must be > 0");
  const elite = j.elite ?? Math.ceil(j.population / 4);
  if (elite > j.population) throw new RlTuneError("elite", `elite (${elite}) is larger than the population (${j.population})`);
  const space = buildRlSpace(j.space, base);
  const job: RlTuneJob = { base, space: j.space as RlSpaceSpec, population: j.population, generations: j.generations, mutationRate: j.mutationRate, crossoverRate: j.crossoverRate, elite, seed: j.seed };
  if (j.workers !== undefined) job.workers = j.workers;
  return { job, space };
}

function fingerprintOf(job: RlTuneJob, space: RlSpace): string {
  return stableStringify({ base: job.base, dims: space.dims.map((d) => ({ name: d.name, values: d.values })), population: job.population, mutationRate: job.mutationRate, crossoverRate: job.crossoverRate, elite: job.elite, seed: job.seed });
}

const StateShape = z
  .object({
    kind: z.literal("rl-tune"),
    version: z.literal(1),
    job: z.record(z.string(), z.unknown()),
    fingerprint: z.string(),
    generation: z.number().int().min(-1),
    population: z.array(z.array(z.number().int().min(0))),
    rng: z.object({ s: z.tuple([z.number(), z.number(), z.number(), z.number()]), spare: z.number().nullable() }),
    trials: z.array(z.record(z.string(), z.unknown())),
    partial: z.array(z.record(z.string(), z.unknown())),
    generations: z.array(z.record(z.string(), z.unknown())),
  })
  .passthrough();

/** Objectives to MINIMISE (failed: +Infinity everywhere). */
function vectorOf(t: RlTrial | undefined, env: "trading" | "cartpole"): number[] {
  const o = t?.status === "ok" ? t.objectives : null;
  if (env === "cartpole") return o && "evalReturn" in o ? [-o.evalReturn] : [Infinity];
  return o && "valSharpe" in o ? [-o.valSharpe, o.valMaxDrawdown] : [Infinity, Infinity];
}

function paretoOf(trials: readonly RlTrial[], env: "trading" | "cartpole"): RlTrial[] {
  const ok = trials.filter((t) => t.status === "ok");
  if (!ok.length) return [];
  const f = ok.map((t) => vectorOf(t, env));
  const { fronts } = nonDominatedSort(f);
  return fronts[0]!.map((i) => ok[i]!).sort((a, b) => {
    const fa = vectorOf(a, env);
    const fb = vectorOf(b, env);
    return fa[0]! - fb[0]! || (fa[1] ?? 0) - (fb[1] ?? 0) || a.id - b.id;
  });
}

function bestOf(trials: readonly RlTrial[], env: "trading" | "cartpole"): RlTrial | null {
  let best: RlTrial | null = null;
  let bf: number[] = [];
  for (const t of trials) {
    if (t.status !== "ok") continue;
    const f = vectorOf(t, env);
    if (!best || f[0]! < bf[0]! || (f[0] === bf[0] && (f[1] ?? 0) < (bf[1] ?? 0))) {
      best = t;
      bf = f;
    }
  }
  return best;
}

/** Runs (or, with `resumeFrom`, continues) a search. Throws only for an invalid job or state, or unavailable data. */
export async function runRlTuning(jobInput: RlTuneJobInput | unknown, deps: RlTuneDeps = {}, hooks: RlTuneHooks = {}, resumeFrom?: RlTuneState): Promise<RlTuneResult> {
  const t0 = performance.now();
  const { job, space } = parseRlTuneJob(jobInput);
  const base = job.base;
  const env = base.env;
  const dims = space.dims;
  const fingerprint = fingerprintOf(job, space);
  const { workers: _w, ...jobNoWorkers } = job;

  // ---- state -------------------------------------------------------------
  let rng = Rng.create(job.seed, GA_STREAM);
  let pop: Genome[] = [];
  let generation = -1;
  const trials: RlTrial[] = [];
  const cache = new Map<string, RlTrial>();
  const partial = new Map<string, RlTrial>();
  const stats: RlGenerationStats[] = [];
  if (resumeFrom !== undefined) {
    const s = StateShape.safeParse(resumeFrom);
    if (!s.success) {
      const issue = s.error.issues[0]!;
      throw new RlTuneError(["state", ...issue.path.map(String)].join("."), issue.message);
    }
    if (resumeFrom.fingerprint !== fingerprint) throw new RlTuneError("state.fingerprint", "the saved search was made for a different job (base configuration, space, population, rates, elite or seed differ)");
    try {
      rng = Rng.fromState(resumeFrom.rng);
    } catch (e) {
      throw new RlTuneError("state.rng", (e as Error).message);
    }
    generation = resumeFrom.generation;
    pop = resumeFrom.population.map((g, i) => space.checkGenome(g, `state.population.${i}`));
    if (generation >= 0 && pop.length !== job.population) throw new RlTuneError("state.population", `expected ${job.population} genomes, got ${pop.length}`);
    resumeFrom.trials.forEach((t, i) => {
      const g = space.checkGenome(t.genome, `state.trials.${i}.genome`);
      const tr: RlTrial = { ...t, genome: g, key: space.key(g) };
      trials.push(tr);
      cache.set(tr.key, tr);
    });
    resumeFrom.partial.forEach((t, i) => {
      const g = space.checkGenome(t.genome, `state.partial.${i}.genome`);
      partial.set(space.key(g), { ...t, genome: g, key: space.key(g) });
    });
    for (const p of pop) if (!cache.has(space.key(p))) throw new RlTuneError("state.population", "a genome of the population has no evaluated trial");
    stats.push(...resumeFrom.generations);
  }

  const snapshot = (): RlTuneState => ({
    kind: "rl-tune",
    version: 1,
    job: jobNoWorkers,
    fingerprint,
    generation,
    population: pop.map((g) => g.slice()),
    rng: rng.getState(),
    trials: trials.slice(),
    partial: [...partial.values()],
    generations: stats.slice(),
  });

  const total = job.population * (job.generations + 1);
  const objectives = (g: Genome) => vectorOf(cache.get(space.key(g)), env);
  const front = (): RlFrontPoint[] => paretoOf([...trials, ...partial.values()], env).map((t) => ({ id: t.id, hyperparams: t.hyperparams, objectives: t.objectives! }));
  const shouldStop = () => hooks.shouldStop?.() ?? false;

  // ---- trials ------------------------------------------------------------
  let runner: TrialRunner | null = null;
  let fallback: string | undefined;
  let data: TrialData | null = null;
  let stopped = false;
  const wantWorkers = job.workers ?? defaultPoolSize();
  const getRunner = async (): Promise<TrialRunner> => {
    if (runner) return runner;
    if (env === "trading" && !data) {
      const t = base.trading!;
      if (!deps.loadBars) throw new RlTuneError("base.trading", "trading tuning needs stored market data (run it in the engine or the CLI with a database)");
      try {
        data = await deps.loadBars(t.symbol, t.timeframe);
      } catch (e) {
        throw new RlTuneError("base.trading.symbol", (e as Error).message);
      }
    }
    const c = await createRunner(data, wantWorkers);
    runner = c.runner;
    fallback = c.fallback;
    return runner;
  };

  const toTrial = (g: Genome, o: TrialOutcome, id: number, gen: number): RlTrial => {
    const t: RlTrial = { id, generation: gen, key: space.key(g), genome: g.slice(), hyperparams: space.hyperparams(g), seed: trialSeed(job.seed, g), status: o.ok ? "ok" : "failed", objectives: o.ok ? o.objectives : null, seconds: Math.round(o.seconds * 1000) / 1000 };
    if (o.ok) {
      if (o.validation) t.validation = o.validation;
      t.steps = o.steps;
    } else t.error = o.error;
    return t;
  };

  /** Evaluates a generation's genomes (cache, then partial results, then training). False when stopped. */
  const evaluate = async (genomes: Genome[], gen: number): Promise<{ ok: boolean; evaluated: number; cached: number; failed: number }> => {
    const fresh: Genome[] = [];
    const freshKeys = new Set<string>();
    for (const g of genomes) {
      const k = space.key(g);
      if (!cache.has(k) && !freshKeys.has(k)) {
        freshKeys.add(k);
        fresh.push(g);
      }
    }
    const cached = genomes.length - fresh.length;
    const settledBefore = (generation + 1) * job.population;
    let settled = cached;
    const outcomes = new Array<RlTrial | undefined>(fresh.length);
    const toRun: number[] = [];
    fresh.forEach((g, j) => {
      const p = partial.get(space.key(g));
      if (p) {
        outcomes[j] = p;
        settled++;
      } else toRun.push(j);
    });
    const progress = () => hooks.onProgress?.({ generation: gen, done: settledBefore + settled, total, front: front() });
    progress();
    if (toRun.length) {
      const r = await getRunner();
      await r.run(
        toRun.map((j) => space.trialConfig(fresh[j]!, trialSeed(job.seed, fresh[j]!))),
        {
          shouldStop,
          onResult: (i, o) => {
            const j = toRun[i]!;
            const t = toTrial(fresh[j]!, o, trials.length + j, gen); // the id it gets on commit
            outcomes[j] = t;
            partial.set(t.key, t);
            settled++;
            progress();
          },
        },
      );
    }
    if (shouldStop() || outcomes.some((o) => o === undefined)) return { ok: false, evaluated: 0, cached, failed: 0 };
    // commit in genome order: ids never depend on completion order
    let failed = 0;
    fresh.forEach((g, j) => {
      const o = outcomes[j]!;
      const t: RlTrial = { ...o, id: trials.length, generation: gen, genome: g.slice() };
      if (t.status !== "ok") failed++;
      trials.push(t);
      cache.set(t.key, t);
    });
    partial.clear();
    return { ok: true, evaluated: fresh.length, cached, failed };
  };

  const summarise = (gen: number, ev: { evaluated: number; cached: number; failed: number }) => {
    const rs = pop.map((g) => cache.get(space.key(g))).filter((t): t is RlTrial => t?.status === "ok");
    const f = pop.map(objectives);
    const { rank } = nonDominatedSort(f);
    let frontSize = 0;
    for (let i = 0; i < pop.length; i++) if (rank[i] === 0 && Number.isFinite(f[i]![0])) frontSize++;
    const vals = (k: "valSharpe" | "valMaxDrawdown" | "evalReturn") => rs.map((t) => (t.objectives as unknown as Record<string, unknown>)[k]).filter((x): x is number => typeof x === "number");
    const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : null);
    const max = (a: number[]) => (a.length ? Math.max(...a) : null);
    const min = (a: number[]) => (a.length ? Math.min(...a) : null);
    stats.push({
      generation: gen,
      label: "validation",
      evaluated: ev.evaluated,
      cached: ev.cached,
      failed: ev.failed,
      bestValSharpe: max(vals("valSharpe")),
      meanValSharpe: mean(vals("valSharpe")),
      minValMaxDrawdown: min(vals("valMaxDrawdown")),
      bestEvalReturn: max(vals("evalReturn")),
      meanEvalReturn: mean(vals("evalReturn")),
      frontSize,
    });
  };

  // ---- the genetic operators ---------------------------------------------
  const mutable = dims.map((d, k) => (d.size > 1 ? k : -1)).filter((k) => k >= 0);
  const mutateGene = (g: Genome, k: number) => {
    const d = dims[k]!;
    if (d.size <= 1) return;
    if (d.numeric) {
      const scale = Math.max(1, Math.round(d.size / 10));
      const mag = 1 + Math.floor((-Math.log(1 - rng.uniform()) * scale) / 2);
      const sign = rng.uniform() < 0.5 ? -1 : 1;
      const clamp = (v: number) => Math.max(0, Math.min(d.size - 1, v));
      let v = clamp(g[k]! + sign * mag);
      if (v === g[k]) v = clamp(g[k]! - sign * mag);
      g[k] = v;
    } else g[k] = (g[k]! + 1 + rng.int(d.size - 1)) % d.size;
  };

  const initialPopulation = (): Genome[] => {
    const out: Genome[] = [];
    const seen = new Set<string>();
    for (let t = 0; out.length < job.population && t < job.population * 20; t++) {
      const g = dims.map((d) => rng.int(d.size));
      const k = space.key(g);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(g);
    }
    // a space smaller than the population: repeat genomes (they hit the cache)
    for (let i = 0; out.length < job.population; i++) out.push(out[i % seen.size]!.slice());
    return out;
  };

  const breed = (): Genome[] => {
    const f = pop.map(objectives);
    const { rank, fronts } = nonDominatedSort(f);
    const crowd = crowdingDistance(f, fronts);
    const tournament = (): Genome => {
      const a = rng.int(pop.length);
      const b = rng.int(pop.length);
      const better = rank[a]! < rank[b]! || (rank[a] === rank[b] && crowd[a]! >= crowd[b]!) ? a : b;
      return pop[better]!;
    };
    const children: Genome[] = [];
    const childKeys = new Set<string>();
    while (children.length < job.population) {
      const p1 = tournament();
      const p2 = tournament();
      const c: Genome = rng.uniform() < job.crossoverRate ? p1.map((v, k) => (rng.uniform() < 0.5 ? v : p2[k]!)) : p1.slice();
      for (let k = 0; k < c.length; k++) if (rng.uniform() < job.mutationRate) mutateGene(c, k);
      const fresh = (g: Genome) => !cache.has(space.key(g)) && !childKeys.has(space.key(g));
      for (let t = 0; t < 20 && mutable.length && !fresh(c); t++) mutateGene(c, mutable[rng.int(mutable.length)]!);
      childKeys.add(space.key(c));
      children.push(c);
    }
    return children;
  };

  const survivors = (children: Genome[]): Genome[] => {
    const childKeys = new Set(children.map((g) => space.key(g)));
    const unionKeys = new Set<string>();
    const union: Genome[] = [];
    for (const g of [...pop, ...children]) {
      const k = space.key(g);
      if (!unionKeys.has(k)) {
        unionKeys.add(k);
        union.push(g);
      }
    }
    const uniqueChildren = union.filter((g) => childKeys.has(space.key(g)));
    const next: Genome[] = [];
    const chosen = new Set<string>();
    const take = (list: Genome[], upTo: number) => {
      for (const i of nsgaOrder(list.map(objectives))) {
        if (next.length >= upTo) return;
        const g = list[i]!;
        const k = space.key(g);
        if (chosen.has(k)) continue;
        chosen.add(k);
        next.push(g);
      }
    };
    take(union, Math.min(job.elite, job.population));
    take(uniqueChildren, job.population);
    take(union, job.population);
    for (let i = 0; next.length < job.population; i++) next.push(next[i]!.slice()); // tiny spaces
    return next;
  };

  // ---- the loop ----------------------------------------------------------
  try {
    if (generation < 0) {
      const rngBefore = rng.getState();
      const initial = initialPopulation();
      const ev = await evaluate(initial, 0);
      if (!ev.ok) {
        rng = Rng.fromState(rngBefore);
        stopped = true;
      } else {
        pop = initial;
        generation = 0;
        summarise(0, ev);
        await hooks.onState?.(snapshot());
      }
    }
    while (!stopped && generation < job.generations) {
      if (shouldStop()) {
        stopped = true;
        break;
      }
      const rngBefore = rng.getState();
      const gen = generation + 1;
      const children = breed();
      const ev = await evaluate(children, gen);
      if (!ev.ok) {
        // replay this generation on resume: keep the PRNG where the generation began
        rng = Rng.fromState(rngBefore);
        stopped = true;
        break;
      }
      pop = survivors(children);
      generation = gen;
      summarise(gen, ev);
      await hooks.onState?.(snapshot());
    }
    if (stopped && partial.size) await hooks.onState?.(snapshot());
  } finally {
    const r = runner as TrialRunner | null;
    if (r) await r.close();
  }

  const state = snapshot();
  const objectiveInfo: RlTuneResult["objectives"] =
    env === "cartpole"
      ? [{ name: "evalReturn", goal: "max", label: "validation", description: "mean return of the greedy policy over 100 fresh evaluation episodes (CartPole has no validation span)" }]
      : [
          { name: "valSharpe", goal: "max", label: "validation", description: "Sharpe ratio of the greedy policy on the validation span" },
          { name: "valMaxDrawdown", goal: "min", label: "validation", description: "maximum drawdown (fraction of the peak) on the validation span" },
        ];
  const usedWorkers = (runner as TrialRunner | null)?.workers ?? 0; // 0 also when nothing needed training
  const result: RlTuneResult = {
    label: "validation",
    env,
    algo: base.algo,
    objectives: objectiveInfo,
    trials: trials.slice(),
    pareto: paretoOf(trials, env),
    generations: stats.slice(),
    best: bestOf(trials, env),
    evaluations: trials.length,
    cacheHits: stats.reduce((a, s) => a + s.cached, 0),
    failed: trials.filter((t) => t.status !== "ok").length,
    stopped,
    workers: usedWorkers,
    seconds: Math.round(performance.now() - t0) / 1000,
    state,
  };
  if (fallback !== undefined) result.fallback = fallback;
  return result;
}

/** Continues a saved search; `generations` may extend it, `workers` picks the pool for this run. */
export function resumeRlTuning(state: RlTuneState, deps: RlTuneDeps = {}, hooks: RlTuneHooks = {}, opts: { generations?: number; workers?: number } = {}): Promise<RlTuneResult> {
  const job: Record<string, unknown> = { ...(state?.job ?? {}) };
  if (opts.generations !== undefined) job.generations = opts.generations;
  if (opts.workers !== undefined) job.workers = opts.workers;
  return runRlTuning(job, deps, hooks, state);
}
