"use client";
import { useEffect, useMemo, useRef, useState } from "react";
import { fmtNum, fmtPct } from "@/app/(app)/backtests/report-model";
import { THEME } from "@/app/(app)/backtests/[id]/chart-theme";
import { niceTicks } from "@/app/(app)/optimize/model";
import { type EnvId, type TrialView, type XY, fmtCount, fmtHyperList, trialPoint } from "./model";

const M = { left: 50, right: 26, top: 14, bottom: 38 };

/** Decimals of a tick step as written (2.5 -> 1, 0.01 -> 2, 5 -> 0). */
function digitsFor(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 1;
  const s = String(Number(step.toPrecision(6)));
  if (s.includes("e-")) return Math.min(8, Number(s.split("e-")[1]));
  return Math.min(8, s.split(".")[1]?.length ?? 0);
}

function useWidth(fallback: number): [React.RefObject<HTMLDivElement | null>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [w, setW] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(([e]) => {
      if (e) setW(Math.max(240, Math.floor(e.contentRect.width)));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, w];
}

export const AXIS_LABELS: Record<EnvId, { x: string; y: string }> = {
  trading: { x: "Max drawdown, validation (lower is better)", y: "Sharpe ratio, validation" },
  cartpole: { x: "Trial (evaluation order)", y: "Evaluation return, validation" },
};

/**
 * Every successful trial of an RL tuning on its VALIDATION objectives:
 * trading, validation max drawdown (x) against validation Sharpe (y), the
 * Pareto front (no trial has both a lower drawdown and a higher Sharpe)
 * highlighted and joined from the safest to the most rewarding; CartPole,
 * the evaluation return (its single objective) per trial in evaluation
 * order, the best trials highlighted. Hover or tap a point for its
 * hyperparameters.
 */
export function TuneParetoChart({ env, trials, pareto, best, dims }: { env: EnvId; trials: readonly TrialView[]; pareto: readonly number[]; best: number | null; dims: readonly string[] }) {
  const [ref, width] = useWidth(640);
  const [hover, setHover] = useState<TrialView | null>(null);
  const [picked, setPicked] = useState<TrialView | null>(null);
  const height = width < 480 ? 260 : 340;

  const data = useMemo(() => {
    const pts = trials.map((t) => ({ t, xy: trialPoint(env, t) })).filter((p): p is { t: TrialView; xy: XY } => p.xy !== null);
    const frontIds = new Set(pareto);
    const front = pts.filter((p) => frontIds.has(p.t.id));
    if (env === "trading") front.sort((a, b) => a.xy.x - b.xy.x || b.xy.y - a.xy.y);
    const xs = pts.map((p) => p.xy.x);
    const ys = pts.map((p) => p.xy.y);
    const xt = niceTicks(env === "trading" ? Math.min(0, ...xs) : Math.min(...xs, 0), xs.length ? Math.max(...xs) : 1, 5);
    const yt = niceTicks(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1, 5);
    return { pts, front, frontIds, xt, yt };
  }, [trials, pareto, env]);

  const iw = width - M.left - M.right;
  const ih = height - M.top - M.bottom;
  const sx = (x: number) => M.left + ((x - data.xt.lo) / (data.xt.hi - data.xt.lo || 1)) * iw;
  const sy = (y: number) => M.top + ih - ((y - data.yt.lo) / (data.yt.hi - data.yt.lo || 1)) * ih;

  const nearest = (e: React.MouseEvent<SVGSVGElement>): TrialView | null => {
    const r = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - r.left;
    const py = e.clientY - r.top;
    let bestD = 22 * 22;
    let hit: TrialView | null = null;
    for (const p of data.pts) {
      const d = (sx(p.xy.x) - px) ** 2 + (sy(p.xy.y) - py) ** 2;
      if (d < bestD) {
        bestD = d;
        hit = p.t;
      }
    }
    return hit;
  };

  const labels = AXIS_LABELS[env];
  const cur = hover ?? picked;
  const curXY = cur ? trialPoint(env, cur) : null;
  const bestTrial = best !== null ? data.pts.find((p) => p.t.id === best) : undefined;
  const frontPath = env === "trading" ? data.front.map((p, i) => `${i ? "L" : "M"}${sx(p.xy.x).toFixed(1)},${sy(p.xy.y).toFixed(1)}`).join(" ") : "";
  const xStep = (data.xt.ticks[1] ?? 1) - (data.xt.ticks[0] ?? 0);
  const yStep = (data.yt.ticks[1] ?? 1) - (data.yt.ticks[0] ?? 0);
  const fmtX = (x: number) => (env === "trading" ? fmtPct(x, digitsFor(xStep * 100)) : fmtCount(x));
  const fmtY = (y: number) => fmtNum(y, digitsFor(yStep));

  if (data.pts.length === 0)
    return (
      <p className="p-4 text-sm text-dim" data-testid="tune-pareto" data-points={0} data-front={0}>
        No successful trial to plot yet (validation objectives appear as trials finish).
      </p>
    );
  return (
    <div className="min-w-0 p-3" data-testid="tune-pareto" data-points={data.pts.length} data-front={data.front.length}>
      <p className="num min-h-[3.75rem] text-xs break-words sm:min-h-[2.5rem]" data-testid="tune-pareto-readout" aria-live="polite">
        {cur && curXY ? (
          <>
            <span className="text-fg">trial #{cur.id}</span>
            {cur.live ? <span className="text-info"> (running generation)</span> : null}
            <span className="text-dim"> · {fmtHyperList(cur.hyperparams, dims.length ? dims : undefined)} · </span>
            {env === "trading" ? (
              <>
                <span>Sharpe (validation) {fmtNum(curXY.y, 3)}</span>
                <span className="text-dim"> · </span>
                <span>max DD (validation) {fmtPct(curXY.x)}</span>
              </>
            ) : (
              <span>evaluation return (validation) {fmtNum(curXY.y, 1)}</span>
            )}
            {data.frontIds.has(cur.id) ? <span className="text-accent"> · on the Pareto front</span> : null}
            {best !== null && cur.id === best ? <span className="text-warn"> · best</span> : null}
          </>
        ) : (
          <span className="text-dim">Hover or tap a point for its hyperparameters.</span>
        )}
      </p>
      <div ref={ref} className="w-full min-w-0 overflow-hidden">
        <svg
          width={width}
          height={height}
          role="img"
          aria-label={`Pareto chart: ${data.pts.length} trials, ${data.front.length} on the front; ${labels.x} against ${labels.y}`}
          className="block touch-manipulation select-none"
          onMouseMove={(e) => setHover(nearest(e))}
          onMouseLeave={() => setHover(null)}
          onClick={(e) => setPicked(nearest(e))}
        >
          {data.xt.ticks.map((t) => (
            <g key={`x${t}`}>
              <line x1={sx(t)} x2={sx(t)} y1={M.top} y2={M.top + ih} stroke={THEME.grid} />
              <text x={sx(t)} y={M.top + ih + 14} textAnchor="middle" fontSize={10} fill={THEME.text} className="num">
                {fmtX(t)}
              </text>
            </g>
          ))}
          {data.yt.ticks.map((t) => (
            <g key={`y${t}`}>
              <line x1={M.left} x2={M.left + iw} y1={sy(t)} y2={sy(t)} stroke={t === 0 ? THEME.text : THEME.grid} strokeDasharray={t === 0 ? "3 3" : undefined} />
              <text x={M.left - 5} y={sy(t) + 3} textAnchor="end" fontSize={10} fill={THEME.text} className="num">
                {fmtY(t)}
              </text>
            </g>
          ))}
          <rect x={M.left} y={M.top} width={iw} height={ih} fill="none" stroke={THEME.line} />
          <text x={M.left + iw / 2} y={height - 4} textAnchor="middle" fontSize={11} fill={THEME.text}>
            {labels.x}
          </text>
          <text x={12} y={M.top + ih / 2} textAnchor="middle" fontSize={11} fill={THEME.text} transform={`rotate(-90 12 ${M.top + ih / 2})`}>
            {labels.y}
          </text>
          {data.pts.map((p) => (data.frontIds.has(p.t.id) ? null : <circle key={p.t.id} cx={sx(p.xy.x)} cy={sy(p.xy.y)} r={2.5} fill={p.t.live ? THEME.info : THEME.text} fillOpacity={0.55} />))}
          {frontPath ? <path d={frontPath} fill="none" stroke={THEME.up} strokeWidth={1.5} data-testid="tune-pareto-front-line" /> : null}
          {data.front.map((p) => (
            <circle key={`f${p.t.id}`} cx={sx(p.xy.x)} cy={sy(p.xy.y)} r={4} fill={THEME.up} stroke={THEME.bg} strokeWidth={1} data-front-id={p.t.id} />
          ))}
          {bestTrial ? (
            <g data-testid="tune-pareto-best">
              <circle cx={sx(bestTrial.xy.x)} cy={sy(bestTrial.xy.y)} r={8} fill="none" stroke={THEME.warn} strokeWidth={2} />
              <text x={sx(bestTrial.xy.x) + 10} y={sy(bestTrial.xy.y) - 8} fontSize={10} fill={THEME.warn}>
                best
              </text>
            </g>
          ) : null}
          {curXY ? <circle cx={sx(curXY.x)} cy={sy(curXY.y)} r={6} fill="none" stroke={THEME.info} strokeWidth={1.5} /> : null}
        </svg>
      </div>
      <p className="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-[11px] text-dim">
        <span>
          <span style={{ color: THEME.text }}>●</span> trials ({fmtCount(data.pts.length)})
        </span>
        <span>
          <span style={{ color: THEME.up }}>●</span>{" "}
          {env === "trading" ? `Pareto front (${fmtCount(data.front.length)}): no other trial has both a lower validation drawdown and a higher validation Sharpe` : `Pareto front (${fmtCount(data.front.length)}): the highest validation evaluation return (a single objective)`}
        </span>
        <span>
          <span style={{ color: THEME.warn }}>◯</span> best {env === "trading" ? "validation Sharpe" : "validation evaluation return"}
        </span>
        {data.pts.some((p) => p.t.live) ? (
          <span>
            <span style={{ color: THEME.info }}>●</span> front points of the running generation (not stored yet)
          </span>
        ) : null}
      </p>
    </div>
  );
}
