import { fmtInt } from "@/app/(app)/markets/format";
import { fmtNum, fmtPct } from "@/app/(app)/backtests/report-model";
import type { StoredOverfit } from "../model";

export const DSR_HELP =
  "Deflated Sharpe ratio: the probability that the best trial's true Sharpe ratio is above zero once you allow for how many parameter sets were tried (and for skewed, fat-tailed returns). Read it as a confidence: 0.95 or more, the edge is unlikely to be luck; well below that, the best result is plausibly the luckiest of many tries.";
export const PBO_HELP =
  "Probability of backtest overfitting: the data is cut into blocks and recombined into many in-sample / out-of-sample halves; PBO is the share of those splits where the in-sample best parameter set ranked in the bottom half out of sample. Near 0: picking the best works; 0.5 or more: picking the best is no better than chance, i.e. overfit.";

function Row({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="flex items-baseline justify-between gap-3 border-t border-line/60 px-3 py-1">
      <dt className="text-xs text-dim" title={hint}>
        {label}
      </dt>
      <dd className="num text-right text-xs whitespace-nowrap">{value}</dd>
    </div>
  );
}

/** Colour by the reading the help text gives: good, doubtful, bad. */
const tone = (x: number | null | undefined, good: (v: number) => boolean, bad: (v: number) => boolean) =>
  x === null || x === undefined ? "text-dim" : good(x) ? "text-accent" : bad(x) ? "text-bad" : "text-warn";

/**
 * The overfitting statistics of the stored result: the Deflated Sharpe Ratio
 * of the best trial and the Probability of Backtest Overfitting across the
 * trials, each with how to read it. For a walk-forward run the engine
 * computes them per fold (the folds table); `walkForward` then gives their
 * means across folds.
 */
export function OverfitStats({ overfit, walkForward }: { overfit: StoredOverfit; walkForward?: { meanDsr: number | null; meanPbo: number | null; folds: number } | null }) {
  const d = overfit.deflatedSharpe;
  const p = overfit.pbo;
  const dsr = walkForward ? walkForward.meanDsr : (d?.dsr ?? null);
  const pbo = walkForward ? walkForward.meanPbo : (p?.pbo ?? null);
  return (
    <div className="grid gap-px bg-line md:grid-cols-2" data-testid="overfit-stats">
      <div className="min-w-0 bg-panel" data-testid="overfit-dsr">
        <div className="px-3 pt-3">
          <p className="text-[11px] uppercase tracking-wide text-dim">
            Deflated Sharpe ratio {walkForward ? "(mean over folds, each fold's in-sample best)" : "of the best trial (in-sample)"}
          </p>
          <p className={`num mt-1 text-2xl ${tone(dsr, (v) => v >= 0.95, (v) => v < 0.5)}`} data-value={dsr ?? ""}>
            {fmtNum(dsr, 3)}
          </p>
          <p className="mt-1 text-[11px] text-dim">{DSR_HELP}</p>
        </div>
        {d && !walkForward ? (
          <dl className="mt-2 pb-2">
            <Row label="Sharpe of the best, annualised (in-sample)" value={fmtNum(d.srAnnualized, 3)} />
            <Row label="Sharpe the best of this many tries would reach by luck, annualised" value={fmtNum(d.sr0Annualized, 3)} hint="expected maximum Sharpe ratio of this many trials under the null of no skill" />
            <Row label="Probabilistic Sharpe ratio (no deflation)" value={fmtNum(d.psr, 3)} />
            <Row label="Trials counted" value={d.trials === null ? "—" : fmtInt(d.trials)} />
            <Row label="Returns (bars) of the best" value={d.n === null ? "—" : fmtInt(d.n)} />
            <Row label="Skew · kurtosis of its returns" value={`${fmtNum(d.skew, 2)} · ${fmtNum(d.kurt, 2)}`} />
          </dl>
        ) : (
          <p className="px-3 py-2 text-[11px] text-dim">{walkForward ? `Per fold in the folds table (${walkForward.folds} folds).` : "Not computed for this run (see the notes)."}</p>
        )}
      </div>
      <div className="min-w-0 bg-panel" data-testid="overfit-pbo">
        <div className="px-3 pt-3">
          <p className="text-[11px] uppercase tracking-wide text-dim">
            Probability of backtest overfitting {walkForward ? "(mean over folds, in-sample trials of each)" : "(across the trials, cross-validated in and out of sample)"}
          </p>
          <p className={`num mt-1 text-2xl ${tone(pbo, (v) => v < 0.2, (v) => v >= 0.5)}`} data-value={pbo ?? ""}>
            {fmtPct(pbo, 1)}
          </p>
          <p className="mt-1 text-[11px] text-dim">{PBO_HELP}</p>
        </div>
        {p && !walkForward ? (
          <dl className="mt-2 pb-2">
            <Row label="Splits evaluated (combinations)" value={p.combinations === null ? "—" : fmtInt(p.combinations)} />
            <Row label="Blocks · trials · observations per trial" value={`${p.blocks ?? "—"} · ${p.trials === null ? "—" : fmtInt(p.trials)} · ${p.observations === null ? "—" : fmtInt(p.observations)}`} />
            <Row label="Chance the in-sample best loses out of sample" value={fmtPct(p.probOosLoss, 1)} />
            <Row label="Sharpe of the in-sample best: in-sample · out-of-sample (per observation)" value={`${fmtNum(p.isSharpeMean, 3)} · ${fmtNum(p.oosSharpeMean, 3)}`} />
            <Row label="Logit of its out-of-sample rank: mean · median" value={`${fmtNum(p.logitMean, 2)} · ${fmtNum(p.logitMedian, 2)}`} hint="above 0: the in-sample best tends to rank in the top half out of sample" />
          </dl>
        ) : (
          <p className="px-3 py-2 text-[11px] text-dim">{walkForward ? "Per fold in the folds table." : "Not computed for this run (see the notes)."}</p>
        )}
      </div>
      {overfit.notes.length ? (
        <ul className="bg-panel px-3 py-2 text-[11px] text-dim md:col-span-2">
          {overfit.notes.map((n) => (
            <li key={n}>· {n}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
