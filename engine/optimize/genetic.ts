/**
 * Genetic search, multi-objective: maximise the Sharpe ratio and minimise the
 * maximum drawdown, NSGA-II style (Deb et al., 2002).
 *
 * - Genome: one index per parameter into its ordered values.
 * - Generation 0: `population` distinct random points the strategy's check
 *   accepts.
 * - Each generation: parents by binary tournament on (front rank, then
 *   crowding distance); uniform crossover with probability crossoverRate (else
 *   a copy of the first parent); each gene mutates with probability
 *   mutationRate: numeric parameters move a random number of steps along their
 *   ordered values (mostly small moves, scale ~ a tenth of the range), enums,
 *   booleans and times jump to another value. A child the check rejects, or one
 *   already evaluated, is mutated again (up to 20 times); one still rejected is
 *   replaced by a random valid point.
 * - Survivors: the first `elite` slots go to the best of parents + children
 *   by NSGA-II order (front rank, then crowding distance); the other slots to
 *   the best children. elite = population is plain NSGA-II (μ + λ); elite = 0
 *   is a generational GA.
 * - Evaluations are cached by parameter set: a repeated point costs nothing.
 * - Everything random comes from one mulberry32 seeded with `seed`, and the
 *   random draws never depend on timing, so a seed gives the same run with
 *   any number of workers.
 *
 * Trials that fail rank behind every successful one. The Pareto front is
 * taken over every successful trial evaluated, not just the last population.
 */
import { mulberry32 } from "./prng";
import { type OverfitStats, type SearchContext, type Trial, TrialCollector, type TrialRecord, taskFor } from "./search";

export interface GeneticOptions {
  population: number;
  generations: number;
  mutationRate: number;
  crossoverRate: number;
  elite: number;
  seed: number;
  /** Individuals served from the cache (for progress). */
  onCacheHits?: (n: number) => void;
}

export interface GenerationStats {
  /** 0 = the initial population. */
  generation: number;
  /** New backtests run for this generation. */
  evaluated: number;
  /** Individuals whose parameter set had been evaluated before. */
  cached: number;
  /** Children the strategy's check rejected and that were replaced by a random valid point. */
  replaced: number;
  /** Over the surviving population. */
  bestSharpe: number | null;
  meanSharpe: number | null;
  minDrawdownPct: number | null;
  /** Survivors on the population's first non-dominated front. */
  frontSize: number;
  /** Best objective value among all trials evaluated so far. */
  bestObjective: number | null;
}

export interface GeneticResult {
  trials: Trial[];
  records: TrialRecord[];
  /** Non-dominated successful trials (max Sharpe, min drawdown), Sharpe descending. */
  pareto: Trial[];
  generations: GenerationStats[];
  best: Trial | null;
  bestRecord: TrialRecord | null;
  evaluations: number;
  cacheHits: number;
  stopped: boolean;
  overfit: OverfitStats;
}

type Genome = number[];

/**
 * Non-dominated sorting of points to MINIMISE (every coordinate): the front
 * rank of each point (0 = non-dominated) and the fronts. O(M N²).
 */
export function nonDominatedSort(f: ReadonlyArray<ReadonlyArray<number>>): { rank: Int32Array; fronts: number[][] } {
  const n = f.length;
  const rank = new Int32Array(n);
  const dominatedBy = new Int32Array(n);
  const dominates: number[][] = Array.from({ length: n }, () => []);
  const dom = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => {
    let strict = false;
    for (let k = 0; k < a.length; k++) {
      if (a[k]! > b[k]!) return false;
      if (a[k]! < b[k]!) strict = true;
    }
    return strict;
  };
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      if (dom(f[i]!, f[j]!)) {
        dominates[i]!.push(j);
        dominatedBy[j]!++;
      } else if (dom(f[j]!, f[i]!)) {
        dominates[j]!.push(i);
        dominatedBy[i]!++;
      }
    }
  const fronts: number[][] = [];
  let cur: number[] = [];
  for (let i = 0; i < n; i++) if (dominatedBy[i] === 0) cur.push(i);
  let r = 0;
  while (cur.length) {
    fronts.push(cur);
    const next: number[] = [];
    for (const i of cur) {
      rank[i] = r;
      for (const j of dominates[i]!) if (--dominatedBy[j]! === 0) next.push(j);
    }
    cur = next;
    r++;
  }
  return { rank, fronts };
}

/** Crowding distance of each point within its front (Infinity at a front's extremes). */
export function crowdingDistance(f: ReadonlyArray<ReadonlyArray<number>>, fronts: number[][]): Float64Array {
  const d = new Float64Array(f.length);
  const m = f[0]?.length ?? 0;
  for (const front of fronts) {
    if (front.length <= 2) {
      for (const i of front) d[i] = Infinity;
      continue;
    }
    for (let k = 0; k < m; k++) {
      const s = [...front].sort((a, b) => f[a]![k]! - f[b]![k]! || a - b);
      const lo = f[s[0]!]![k]!;
      const hi = f[s[s.length - 1]!]![k]!;
      d[s[0]!] = Infinity;
      d[s[s.length - 1]!] = Infinity;
      const span = hi - lo;
      if (!(span > 0) || !Number.isFinite(span)) continue;
      for (let j = 1; j < s.length - 1; j++) d[s[j]!]! += (f[s[j + 1]!]![k]! - f[s[j - 1]!]![k]!) / span;
    }
  }
  return d;
}

/** Indices of `f` in NSGA-II order: front rank ascending, crowding distance descending, index ascending. */
export function nsgaOrder(f: ReadonlyArray<ReadonlyArray<number>>): number[] {
  const { rank, fronts } = nonDominatedSort(f);
  const crowd = crowdingDistance(f, fronts);
  return Array.from({ length: f.length }, (_, i) => i).sort((a, b) => rank[a]! - rank[b]! || crowd[b]! - crowd[a]! || a - b);
}

/**
 * The non-dominated set for (maximise Sharpe, minimise drawdown) in
 * O(N log N): identical points are all kept. Input: successful trials.
 */
export function paretoFront(trials: readonly Trial[]): Trial[] {
  const ok = trials.filter((t) => t.ok && t.metrics);
  const s = [...ok].sort((a, b) => b.metrics!.sharpe - a.metrics!.sharpe || a.metrics!.maxDrawdownPct - b.metrics!.maxDrawdownPct || a.id - b.id);
  const out: Trial[] = [];
  let bestDd = Infinity; // lowest drawdown among strictly higher Sharpe ratios
  for (let i = 0; i < s.length; ) {
    const sharpe = s[i]!.metrics!.sharpe;
    const groupMin = s[i]!.metrics!.maxDrawdownPct;
    let j = i;
    while (j < s.length && s[j]!.metrics!.sharpe === sharpe) {
      const t = s[j]!;
      if (t.metrics!.maxDrawdownPct === groupMin && groupMin < bestDd) out.push(t);
      j++;
    }
    if (groupMin < bestDd) bestDd = groupMin;
    i = j;
  }
  return out;
}

export async function geneticSearch(ctx: SearchContext, o: GeneticOptions): Promise<GeneticResult> {
  const { space } = ctx;
  const dims = space.dims;
  const rng = mulberry32(o.seed);
  const col = new TrialCollector(ctx);
  const cache = new Map<string, number>(); // point key -> task index
  let nextIndex = 0;
  let cacheHits = 0;
  let stopped = false;
  const stop = () => stopped || (ctx.shouldStop?.() ?? false) || col.stopped;

  const recordOf = (g: Genome): TrialRecord | undefined => {
    const i = cache.get(space.key(g));
    return i === undefined ? undefined : col.record(i);
  };
  // minimise both: -Sharpe, drawdown; failures and unknowns are worst
  const objectives = (g: Genome): [number, number] => {
    const m = recordOf(g)?.trial.metrics;
    return m ? [-m.sharpe, m.maxDrawdownPct] : [Infinity, Infinity];
  };

  const mutable = dims.map((d, k) => (d.size > 1 ? k : -1)).filter((k) => k >= 0);
  const randomValid = (): Genome | null => {
    for (let t = 0; t < 1000; t++) {
      const g = dims.map((d) => rng.int(d.size));
      if (space.reject(g) === null) return g;
    }
    return null;
  };
  const mutateGene = (g: Genome, k: number) => {
    const d = dims[k]!;
    if (d.size <= 1) return;
    if (d.numeric) {
      const scale = Math.max(1, Math.round(d.size / 10));
      const mag = 1 + Math.floor((-Math.log(1 - rng.next()) * scale) / 2);
      const sign = rng.next() < 0.5 ? -1 : 1;
      const clamp = (v: number) => Math.max(0, Math.min(d.size - 1, v));
      let v = clamp(g[k]! + sign * mag);
      if (v === g[k]) v = clamp(g[k]! - sign * mag);
      g[k] = v;
    } else g[k] = (g[k]! + 1 + rng.int(d.size - 1)) % d.size;
  };

  const evaluate = async (genomes: Genome[]): Promise<{ evaluated: number; cached: number }> => {
    const fresh: Genome[] = [];
    for (const g of genomes) {
      const k = space.key(g);
      if (!cache.has(k)) {
        cache.set(k, nextIndex + fresh.length);
        fresh.push(g);
      }
    }
    const cached = genomes.length - fresh.length;
    cacheHits += cached;
    if (cached) o.onCacheHits?.(cached);
    const base = nextIndex;
    nextIndex += fresh.length;
    await ctx.evaluator.run(
      fresh.map((g) => taskFor(ctx, g)),
      {
        shouldStop: ctx.shouldStop,
        onResult: (j, out) => void col.add(base + j, fresh[j]!, out),
      },
    );
    return { evaluated: fresh.length, cached };
  };

  const generations: GenerationStats[] = [];
  const summarise = (gen: number, pop: Genome[], ev: { evaluated: number; cached: number }, replaced: number) => {
    const ms = pop.map((g) => recordOf(g)?.trial.metrics).filter((m): m is NonNullable<typeof m> => !!m);
    const f = pop.map(objectives);
    const { rank } = nonDominatedSort(f);
    let front = 0;
    for (let i = 0; i < pop.length; i++) if (rank[i] === 0 && Number.isFinite(f[i]![0])) front++;
    const best = col.best;
    generations.push({
      generation: gen,
      evaluated: ev.evaluated,
      cached: ev.cached,
      replaced,
      bestSharpe: ms.length ? Math.max(...ms.map((m) => m.sharpe)) : null,
      meanSharpe: ms.length ? ms.reduce((a, m) => a + m.sharpe, 0) / ms.length : null,
      minDrawdownPct: ms.length ? Math.min(...ms.map((m) => m.maxDrawdownPct)) : null,
      frontSize: front,
      bestObjective: best?.trial.objective ?? null,
    });
  };

  // generation 0
  let pop: Genome[] = [];
  const seen = new Set<string>();
  for (let t = 0; pop.length < o.population && t < o.population * 20; t++) {
    const g = randomValid();
    if (!g) break;
    const k = space.key(g);
    if (seen.has(k)) continue;
    seen.add(k);
    pop.push(g);
  }
  if (pop.length === 0) throw new RangeError("genetic: no point of the space passes the strategy's check");
  // a space smaller than the population: repeat points (they hit the cache)
  for (let i = 0; pop.length < o.population; i++) pop.push(pop[i % seen.size]!.slice());
  summarise(0, pop, await evaluate(pop), 0);
  stopped = stop();

  for (let gen = 1; gen <= o.generations && !stopped; gen++) {
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
    let replaced = 0;
    while (children.length < o.population) {
      const p1 = tournament();
      const p2 = tournament();
      let c: Genome = rng.next() < o.crossoverRate ? p1.map((v, k) => (rng.next() < 0.5 ? v : p2[k]!)) : p1.slice();
      for (let k = 0; k < c.length; k++) if (rng.next() < o.mutationRate) mutateGene(c, k);
      const fresh = (g: Genome) => !cache.has(space.key(g)) && !childKeys.has(space.key(g));
      for (let t = 0; t < 20 && mutable.length && (space.reject(c) !== null || !fresh(c)); t++) mutateGene(c, mutable[rng.int(mutable.length)]!);
      if (space.reject(c) !== null) {
        c = randomValid() ?? p1.slice();
        replaced++;
      }
      childKeys.add(space.key(c));
      children.push(c);
    }
    const ev = await evaluate(children);
    stopped = stop();

    // survivors
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
    take(union, Math.min(o.elite, o.population));
    take(uniqueChildren, o.population);
    take(union, o.population);
    for (let i = 0; next.length < o.population; i++) next.push(next[i]!.slice()); // tiny spaces
    pop = next;
    summarise(gen, pop, ev, replaced);
  }

  const records = col.list();
  const trials = records.map((r) => r.trial);
  return {
    trials,
    records,
    pareto: paretoFront(trials),
    generations,
    best: col.best?.trial ?? null,
    bestRecord: col.best,
    evaluations: records.length,
    cacheHits,
    stopped,
    overfit: col.overfit(),
  };
}
