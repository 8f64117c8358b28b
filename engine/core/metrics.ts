/**
 * Performance metrics of a backtest: return, risk and trade statistics from an
 * equity curve and a list of closed round trips. Pure: no I/O, no imports.
 *
 * Model (every metric below follows it):
 * - The curve has n + 1 points: P[-1] = initialCash, standing at ts[0] (the
 *   start of the first bar), and P[i] = equity[i], standing at the CLOSE of
 *   bar i, i.e. ts[i] + barMs.
 * - Per-bar simple returns r[i] = P[i] / P[i-1] - 1 for i = 0..n-1 (n returns;
 *   the first one is relative to initialCash), so prod(1 + r) = 1 + totalReturn.
 *   A return whose base P[i-1] <= 0 (ruined account) is 0.
 * - Drawdowns are measured against the running peak of P, starting with
 *   initialCash, so a loss on the first bar is a drawdown.
 *
 * Conventions for values that are not numbers:
 * - Undefined because of a zero denominator or too little data (std of fewer
 *   than two returns, zero deviation, no drawdown, no trades...) -> 0.
 * - Mathematically +Infinity (profit factor / payoff ratio with no losing
 *   trade, an annualised return that overflows a double) -> null, with a flag
 *   for the two trade ratios. The result is always JSON-serialisable.
 *
 * Cost: O(n) in two passes over the curve, no allocation proportional to n
 * (a sort of the trades only when they are not already ordered by exit time).
 * Sums over bars use Neumaier (improved Kahan) compensated summation.
 * See the "Metrics" section of the README for every formula.
 */

export type MetricsCalendar = "24x7" | "cme-globex" | "us-equity";

export interface MetricsTrade {
  /** Net of commissions. */
  pnl: number;
  entryTs: number;
  exitTs: number;
  commission: number;
}

export interface MetricsInput {
  initialCash: number;
  /** One entry per bar, bar START time, UTC epoch ms, strictly ascending. */
  ts: Float64Array;
  /** Account equity (cash + marked-to-market positions) at each bar's close. */
  equity: Float64Array;
  /** 1 if a position was open at that bar's close, else 0. */
  exposure: Uint8Array;
  /** Nominal bar size in ms (60_000 for 1m, 86_400_000 for 1d...). */
  barMs: number;
  /** Override; default from barMs and calendar (see defaultPeriodsPerYear). */
  periodsPerYear?: number;
  /** Default "24x7". */
  calendar?: MetricsCalendar;
  /** Annual, as a fraction; default 0. */
  riskFreeRate?: number;
  /** Closed round trips. */
  trades: ReadonlyArray<MetricsTrade>;
}

export interface Metrics {
  /** Number of bars n. */
  bars: number;
  /** ts[0] and ts[n-1] (bar start times). */
  startTs: number;
  endTs: number;
  /** (endTs - startTs) / YEAR_MS, the span used by annualizedReturn. */
  years: number;
  periodsPerYear: number;
  initialCash: number;
  finalEquity: number;

  /** finalEquity / initialCash - 1. */
  totalReturn: number;
  /** CAGR; 0 for one bar or zero span, -1 if finalEquity <= 0, null if it overflows. */
  annualizedReturn: number | null;
  /** Sample std (n-1) of per-bar returns * sqrt(periodsPerYear). */
  volatility: number;
  sharpe: number;
  sortino: number;
  /** annualizedReturn / maxDrawdownPct; 0 without drawdown; null if annualizedReturn is null or it overflows. */
  calmar: number | null;

  /** Largest fall below the running peak as a POSITIVE fraction of that peak (0.2 = 20 %). */
  maxDrawdownPct: number;
  /** Currency depth (peak - trough) of that same deepest drawdown; positive. */
  maxDrawdown: number;
  /** Longest time below a peak, ms from the peak point to the recovery point (or to the last point). */
  maxDrawdownDuration: number;
  /** The same period counted in bars. */
  maxDrawdownDurationBars: number;

  /** Fraction of bars with exposure[i] != 0. */
  exposure: number;

  /** Trade count (closed round trips). */
  trades: number;
  winningTrades: number;
  losingTrades: number;
  /** winningTrades / trades (breakeven trades count as not winning); 0 without trades. */
  winRate: number;
  /** Sum of positive pnl. */
  grossProfit: number;
  /** Sum of |negative pnl|; POSITIVE. */
  grossLoss: number;
  /** grossProfit / grossLoss; null when infinite (see profitFactorInfinite); 0 when grossProfit = 0. */
  profitFactor: number | null;
  /** True iff grossLoss = 0 and grossProfit > 0 (then profitFactor is null). */
  profitFactorInfinite: boolean;
  /** Mean trade pnl; 0 without trades. */
  expectancy: number;
  /** grossProfit / winningTrades; 0 without winners. */
  avgWin: number;
  /** -grossLoss / losingTrades: NEGATIVE (or 0 without losers). */
  avgLoss: number;
  /** avgWin / |avgLoss|; null when infinite (see payoffRatioInfinite); 0 without winners. */
  payoffRatio: number | null;
  /** True iff there are winners and no losers (then payoffRatio is null). */
  payoffRatioInfinite: boolean;
  /** Most consecutive trades with pnl < 0, in exit-time order; a pnl = 0 trade breaks a streak. */
  longestLosingStreak: number;
  /** Most consecutive trades with pnl > 0, same rules. */
  longestWinningStreak: number;
  totalCommission: number;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Year used to annualise elapsed calendar time: 365.25 days. */
export const YEAR_MS = 365.25 * DAY_MS;

/**
 * Returns whose standard or downside deviation is below this (per bar) are
 * treated as having zero deviation. The rounding noise of P[i]/P[i-1] - 1 is
 * about 1e-16, so a curve growing at an exactly constant rate would otherwise
 * show a deviation of ~1e-17 and a Sharpe ratio of ~1e15.
 */
export const ZERO_DEVIATION = 1e-14;

/**
 * Default periods per year for a bar size and calendar.
 *
 * | bar size        | 24x7               | cme-globex              | us-equity                |
 * | barMs >= 1 day  | 365 * DAY / barMs  | 252 * DAY / barMs       | 252 * DAY / barMs        |
 * | intraday        | 365 * DAY / barMs  | 252 * 23 h / barMs      | 252 * 6.5 h / barMs      |
 *
 * So 1d bars give 365 / 252 / 252. Hours are nominal session hours: a session
 * whose length is not a multiple of the bar (us-equity 1h: 6 full bars + one
 * of 30 min) makes this an approximation; pass periodsPerYear to override.
 */
export function defaultPeriodsPerYear(barMs: number, calendar: MetricsCalendar = "24x7"): number {
  if (!(barMs > 0) || !Number.isFinite(barMs)) throw new RangeError(`metrics: barMs must be a positive finite number, got ${barMs}`);
  if (barMs >= DAY_MS) return ((calendar === "24x7" ? 365 : 252) * DAY_MS) / barMs;
  switch (calendar) {
    case "24x7":
      return (365 * DAY_MS) / barMs;
    case "cme-globex":
      return (252 * 23 * HOUR_MS) / barMs;
    case "us-equity":
      return (252 * 6.5 * HOUR_MS) / barMs;
    default:
      throw new RangeError(`metrics: unknown calendar "${String(calendar)}"`);
  }
}

/**
 * Fraction below the running peak at each point: dd[i] = (peak[i] - equity[i]) / peak[i]
 * with peak[i] = max(initialPeak, equity[0..i]); positive, 0 at a new high.
 * Without initialPeak the peak starts at equity[0]; computeMetrics uses
 * initialPeak = initialCash, so max(drawdownSeries(equity, initialCash)) === maxDrawdownPct.
 * Where the peak is <= 0 (no capital ever) the value is 0.
 */
export function drawdownSeries(equity: Float64Array, initialPeak?: number): Float64Array {
  const n = equity.length;
  const out = new Float64Array(n);
  let peak = initialPeak ?? -Infinity;
  for (let i = 0; i < n; i++) {
    const p = equity[i]!;
    if (p >= peak) peak = p;
    else if (peak > 0) out[i] = (peak - p) / peak;
  }
  return out;
}

export interface MonthlyReturn {
  year: number;
  /** 1..12 (UTC). */
  month: number;
  ret: number;
}

/**
 * Return of every UTC calendar month that has bars: month-end equity (equity of
 * the month's last bar, bars assigned by their START time) over the previous
 * month's end equity, minus 1. The first month is relative to startEquity,
 * which defaults to equity[0] (pass initialCash to make the product of (1 + ret)
 * equal 1 + totalReturn). Months without bars get no entry; the next month's
 * return then spans the gap. A base <= 0 gives 0. O(n), one Date per month.
 */
export function monthlyReturns(ts: Float64Array, equity: Float64Array, startEquity?: number): MonthlyReturn[] {
  const n = ts.length;
  if (equity.length !== n) throw new RangeError(`metrics: ts has ${n} entries but equity has ${equity.length}`);
  const out: MonthlyReturn[] = [];
  if (n === 0) return out;
  let base = startEquity ?? equity[0]!;
  let i = 0;
  while (i < n) {
    const t0 = ts[i]!;
    if (!Number.isFinite(t0)) throw new RangeError(`metrics: ts[${i}] is not finite`);
    const d = new Date(t0);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth();
    const next = Date.UTC(year, month + 1, 1);
    let j = i;
    while (j + 1 < n && ts[j + 1]! < next) {
      if (!(ts[j + 1]! > ts[j]!)) throw new RangeError(`metrics: ts must be strictly ascending (index ${j + 1})`);
      j++;
    }
    if (j + 1 < n && !(ts[j + 1]! > ts[j]!)) throw new RangeError(`metrics: ts must be strictly ascending (index ${j + 1})`);
    const end = equity[j]!;
    out.push({ year, month: month + 1, ret: base > 0 ? end / base - 1 : 0 });
    base = end;
    i = j + 1;
  }
  return out;
}

function badBar(equity: Float64Array, i: number): never {
  if (!Number.isFinite(equity[i])) throw new RangeError(`metrics: equity[${i}] is not finite`);
  throw new RangeError(`metrics: ts must be finite and strictly ascending (index ${i})`);
}

interface CurveStats {
  /** Compensated sum of r. */
  sumR: number;
  /** Compensated sum of min(r, 0)^2. */
  sumDown2: number;
  exposed: number;
  maxDdPct: number;
  maxDd: number;
  maxDur: number;
  maxDurBars: number;
}

/**
 * Pass 1: validation, sums of returns and squared downside returns, drawdowns,
 * exposure. Kept apart from computeMetrics (and the throws apart from it) so V8
 * optimises this loop on its own: inline message-building throws, or feedback
 * missing for the code after the loop, made it compile 2-3x slower.
 */
function curvePass(initialCash: number, ts: Float64Array, equity: Float64Array, exposure: Uint8Array, barMs: number): CurveStats {
  const n = ts.length;
  let sumR = 0;
  let sumRc = 0; // Neumaier compensation
  let sumD = 0;
  let sumDc = 0;
  let exposed = 0;

  let peak = initialCash;
  let peakIdx = -1; // -1 = the initialCash point
  let peakTime = ts[0]!; // time of the peak point: ts[0] for initialCash, else its bar's close
  let underwater = false;
  let maxDdPct = 0;
  let maxDd = 0;
  let maxDur = 0;
  let maxDurBars = 0;

  let prev = initialCash;
  let prevTs = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    const p = equity[i]!;
    if (!(t > prevTs) || !Number.isFinite(t) || !Number.isFinite(p)) badBar(equity, i);
    prevTs = t;

    const r = prev > 0 ? p / prev - 1 : 0;
    prev = p;
    let s = sumR + r;
    sumRc += Math.abs(sumR) >= Math.abs(r) ? sumR - s + r : r - s + sumR;
    sumR = s;
    // min(r, 0) without a branch ((r - |r|) / 2 is exact): the sign of r is a
    // coin flip, and the mispredicted branch cost more than the rest of the pass.
    const neg = (r - Math.abs(r)) * 0.5;
    const r2 = neg * neg;
    s = sumD + r2;
    sumDc += sumD >= r2 ? sumD - s + r2 : r2 - s + sumD;
    sumD = s;

    exposed += +(exposure[i] !== 0); // branch-free, same reason

    if (p >= peak) {
      if (underwater) {
        const dur = t + barMs - peakTime;
        if (dur > maxDur) {
          maxDur = dur;
          maxDurBars = i - peakIdx;
        }
        underwater = false;
      }
      peak = p;
      peakIdx = i;
      peakTime = t + barMs;
    } else {
      underwater = true;
      const dd = (peak - p) / peak; // peak >= initialCash > 0
      if (dd > maxDdPct) {
        maxDdPct = dd;
        maxDd = peak - p;
      }
    }
  }
  if (underwater) {
    const dur = ts[n - 1]! + barMs - peakTime;
    if (dur > maxDur) {
      maxDur = dur;
      maxDurBars = n - 1 - peakIdx;
    }
  }
  return { sumR: sumR + sumRc, sumDown2: sumD + sumDc, exposed, maxDdPct, maxDd, maxDur, maxDurBars };
}

/** Pass 2: compensated sum of (r - mean)^2, recomputing r exactly as pass 1 does. */
function sumSquaredDeviations(initialCash: number, equity: Float64Array, meanR: number): number {
  const n = equity.length;
  let ss = 0;
  let ssc = 0;
  let prev = initialCash;
  for (let i = 0; i < n; i++) {
    const p = equity[i]!;
    const r = prev > 0 ? p / prev - 1 : 0;
    prev = p;
    const d = r - meanR;
    const d2 = d * d;
    const s = ss + d2;
    ssc += ss >= d2 ? ss - s + d2 : d2 - s + ss;
    ss = s;
  }
  return ss + ssc;
}

/**
 * All metrics in two O(n) passes. Throws RangeError on malformed input: no bars,
 * arrays of different lengths, ts not finite and strictly ascending, equity not
 * finite, initialCash or barMs or periodsPerYear not positive and finite,
 * riskFreeRate <= -1, or a trade with a non-finite pnl, commission or exitTs.
 */
export function computeMetrics(input: MetricsInput): Metrics {
  const { initialCash, ts, equity, exposure, barMs, trades } = input;
  const calendar = input.calendar ?? "24x7";
  const rf = input.riskFreeRate ?? 0;
  const n = ts.length;

  if (n === 0) throw new RangeError("metrics: at least one bar is required");
  if (equity.length !== n || exposure.length !== n) {
    throw new RangeError(`metrics: ts, equity and exposure must have the same length (${n}, ${equity.length}, ${exposure.length})`);
  }
  if (!(initialCash > 0) || !Number.isFinite(initialCash)) throw new RangeError(`metrics: initialCash must be positive and finite, got ${initialCash}`);
  if (!(barMs > 0) || !Number.isFinite(barMs)) throw new RangeError(`metrics: barMs must be positive and finite, got ${barMs}`);
  if (!(rf > -1) || !Number.isFinite(rf)) throw new RangeError(`metrics: riskFreeRate must be finite and > -1, got ${rf}`);
  const ppy = input.periodsPerYear ?? defaultPeriodsPerYear(barMs, calendar);
  if (!(ppy > 0) || !Number.isFinite(ppy)) throw new RangeError(`metrics: periodsPerYear must be positive and finite, got ${ppy}`);

  // Pass 1 and pass 2 over the bars.
  const c = curvePass(initialCash, ts, equity, exposure, barMs);
  const meanR = c.sumR / n;
  const downDev = Math.sqrt(c.sumDown2 / n);
  let std = n >= 2 ? Math.sqrt(sumSquaredDeviations(initialCash, equity, meanR) / (n - 1)) : 0;
  if (std < ZERO_DEVIATION) std = 0;
  const lastTs = ts[n - 1]!;
  const maxDdPct = c.maxDdPct;

  const sqrtPpy = Math.sqrt(ppy);
  const rfBar = rf === 0 ? 0 : Math.pow(1 + rf, 1 / ppy) - 1;
  const excess = meanR - rfBar;
  const volatility = std * sqrtPpy;
  const sharpe = n >= 2 && std > 0 ? (excess / std) * sqrtPpy : 0;
  const sortino = n >= 2 && downDev >= ZERO_DEVIATION ? (excess / downDev) * sqrtPpy : 0;

  const finalEquity = equity[n - 1]!;
  const totalReturn = finalEquity / initialCash - 1;
  const years = (lastTs - ts[0]!) / YEAR_MS;
  let annualizedReturn: number | null;
  if (n < 2 || !(years > 0)) annualizedReturn = 0;
  else if (finalEquity <= 0) annualizedReturn = -1;
  else {
    const a = Math.pow(finalEquity / initialCash, 1 / years) - 1;
    annualizedReturn = Number.isFinite(a) ? a : null;
  }
  let calmar: number | null;
  if (annualizedReturn === null) calmar = null;
  else if (maxDdPct > 0) {
    const q = annualizedReturn / maxDdPct;
    calmar = Number.isFinite(q) ? q : null;
  } else calmar = 0;

  // ---- Trades.
  const k = trades.length;
  let sorted = true;
  for (let i = 0; i < k; i++) {
    const tr = trades[i]!;
    if (!Number.isFinite(tr.pnl) || !Number.isFinite(tr.commission) || !Number.isFinite(tr.exitTs)) {
      throw new RangeError(`metrics: trade ${i} has a non-finite pnl, commission or exitTs`);
    }
    if (i > 0 && tr.exitTs < trades[i - 1]!.exitTs) sorted = false;
  }
  // Stable sort by exit time only when needed (Array.prototype.sort is stable).
  const ordered = sorted ? trades : [...trades].sort((a, b) => a.exitTs - b.exitTs);

  let grossProfit = 0;
  let gpc = 0;
  let grossLoss = 0;
  let glc = 0;
  let totalCommission = 0;
  let tcc = 0;
  let wins = 0;
  let losses = 0;
  let lossRun = 0;
  let winRun = 0;
  let longestLosingStreak = 0;
  let longestWinningStreak = 0;
  for (let i = 0; i < k; i++) {
    const tr = ordered[i]!;
    const pnl = tr.pnl;
    if (pnl > 0) {
      wins++;
      const s = grossProfit + pnl;
      gpc += grossProfit >= pnl ? grossProfit - s + pnl : pnl - s + grossProfit;
      grossProfit = s;
      winRun++;
      lossRun = 0;
      if (winRun > longestWinningStreak) longestWinningStreak = winRun;
    } else if (pnl < 0) {
      losses++;
      const a = -pnl;
      const s = grossLoss + a;
      glc += grossLoss >= a ? grossLoss - s + a : a - s + grossLoss;
      grossLoss = s;
      lossRun++;
      winRun = 0;
      if (lossRun > longestLosingStreak) longestLosingStreak = lossRun;
    } else {
      winRun = 0;
      lossRun = 0;
    }
    const c = tr.commission;
    const s = totalCommission + c;
    tcc += Math.abs(totalCommission) >= Math.abs(c) ? totalCommission - s + c : c - s + totalCommission;
    totalCommission = s;
  }
  grossProfit += gpc;
  grossLoss += glc;
  totalCommission += tcc;

  const avgWin = wins > 0 ? grossProfit / wins : 0;
  const avgLoss = losses > 0 ? -grossLoss / losses : 0;
  const profitFactorInfinite = grossLoss === 0 && grossProfit > 0;
  const profitFactor = profitFactorInfinite ? null : grossLoss > 0 ? grossProfit / grossLoss : 0;
  const payoffRatioInfinite = wins > 0 && losses === 0;
  const payoffRatio = payoffRatioInfinite ? null : losses > 0 ? avgWin / -avgLoss : 0;

  return {
    bars: n,
    startTs: ts[0]!,
    endTs: lastTs,
    years,
    periodsPerYear: ppy,
    initialCash,
    finalEquity,
    totalReturn,
    annualizedReturn,
    volatility,
    sharpe,
    sortino,
    calmar,
    maxDrawdownPct: maxDdPct,
    maxDrawdown: c.maxDd,
    maxDrawdownDuration: c.maxDur,
    maxDrawdownDurationBars: c.maxDurBars,
    exposure: c.exposed / n,
    trades: k,
    winningTrades: wins,
    losingTrades: losses,
    winRate: k > 0 ? wins / k : 0,
    grossProfit,
    grossLoss,
    profitFactor,
    profitFactorInfinite,
    expectancy: k > 0 ? (grossProfit - grossLoss) / k : 0,
    avgWin,
    avgLoss,
    payoffRatio,
    payoffRatioInfinite,
    longestLosingStreak,
    longestWinningStreak,
    totalCommission,
  };
}
