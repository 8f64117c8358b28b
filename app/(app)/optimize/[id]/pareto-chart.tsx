"use client";
import { useEffect, useMemo, useRef, useState } from "react";
import { fmtInt } from "@/app/(app)/markets/format";
import { fmtNum, fmtPct } from "@/app/(app)/backtests/report-model";
import { THEME } from "@/app/(app)/backtests/[id]/chart-theme";
import { type StoredGeneration, type StoredTrial, fmtObjective, fmtParamList, niceTicks, objectiveLabel, sortFront, trialXY } from "../model";

const M = { left: 46, right: 26, top: 14, bottom: 38 };

/** Decimals of a tick step as written (2.5 -> 1, 0.01 -> 2, 5 -> 0): enough to tell the ticks apart. */
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

/**
 * Every successful trial of a genetic search as max drawdown (x) against
 * Sharpe ratio (y), both in-sample; the stored Pareto front (no trial has both
 * a lower drawdown and a higher Sharpe) highlighted and joined from the safest
 * to the most rewarding, the best trial by the objective ringed. Hover or tap
 * a point for its parameters.
 */
export function ParetoChart({ trials, pareto, best, objective }: { trials: readonly StoredTrial[]; pareto: readonly StoredTrial[]; best: StoredTrial | null; objective: string }) {
  const [ref, width] = useWidth(640);
  const [hover, setHover] = useState<StoredTrial | null>(null);
  const [picked, setPicked] = useState<StoredTrial | null>(null);
  const height = width < 480 ? 260 : 340;

  const data = useMemo(() => {
    const pts = trials.map((t) => ({ t, xy: trialXY(t) })).filter((p): p is { t: StoredTrial; xy: { x: number; y: number } } => p.xy !== null);
    const front = sortFront(pareto, trialXY);
    const frontIds = new Set(front.map((t) => t.id));
    const xs = pts.map((p) => p.xy.x);
    const ys = pts.map((p) => p.xy.y);
    const xt = niceTicks(Math.min(0, ...xs), xs.length ? Math.max(...xs) : 1, 5);
    const yt = niceTicks(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1, 5);
    return { pts, front, frontIds, xt, yt };
  }, [trials, pareto]);

  const iw = width - M.left - M.right;
  const ih = height - M.top - M.bottom;
  const sx = (x: number) => M.left + ((x - data.xt.lo) / (data.xt.hi - data.xt.lo || 1)) * iw;
  const sy = (y: number) => M.top + ih - ((y - data.yt.lo) / (data.yt.hi - data.yt.lo || 1)) * ih;

  const nearest = (e: React.MouseEvent<SVGSVGElement>): StoredTrial | null => {
    const r = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - r.left;
    const py = e.clientY - r.top;
    let bestD = 22 * 22;
    let hit: StoredTrial | null = null;
    for (const p of data.pts) {
      const d = (sx(p.xy.x) - px) ** 2 + (sy(p.xy.y) - py) ** 2;
      if (d < bestD) {
        bestD = d;
        hit = p.t;
      }
    }
    return hit;
  };

  const cur = hover ?? picked;
  const curXY = cur ? trialXY(cur) : null;
  const bestXY = best ? trialXY(best) : null;
  const frontPath = data.front
    .map((t) => trialXY(t)!)
    .map((p, i) => `${i ? "L" : "M"}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
    .join(" ");

  if (data.pts.length === 0) return <p className="p-4 text-sm text-dim" data-testid="pareto-chart">No successful trial to plot.</p>;
  return (
    <div className="min-w-0 p-3" data-testid="pareto-chart" data-points={data.pts.length} data-front={data.front.length}>
      <p className="num min-h-[3.75rem] text-xs break-words sm:min-h-[2.5rem]" data-testid="pareto-readout" aria-live="polite">
        {cur && curXY ? (
          <>
            <span className="text-fg">trial #{cur.id}</span>
            <span className="text-dim"> · {fmtParamList(cur.params)} · </span>
            <span>Sharpe {fmtNum(curXY.y, 3)}</span>
            <span className="text-dim"> · </span>
            <span>max DD {fmtPct(curXY.x)}</span>
            <span className="text-dim"> · {objectiveLabel(objective)} {fmtObjective(objective, cur.objective, cur.metrics?.profitFactorInfinite === true)}</span>
            {data.frontIds.has(cur.id) ? <span className="text-accent"> · on the Pareto front</span> : null}
            {best && cur.id === best.id ? <span className="text-warn"> · best by {objectiveLabel(objective)}</span> : null}
          </>
        ) : (
          <span className="text-dim">Hover or tap a point for its parameters.</span>
        )}
      </p>
      <div ref={ref} className="w-full min-w-0 overflow-hidden">
        <svg
          width={width}
          height={height}
          role="img"
          aria-label={`Pareto chart: ${data.pts.length} trials, ${data.front.length} on the front; max drawdown against Sharpe ratio, in-sample`}
          className="block touch-manipulation select-none"
          onMouseMove={(e) => setHover(nearest(e))}
          onMouseLeave={() => setHover(null)}
          onClick={(e) => setPicked(nearest(e))}
        >
          {data.xt.ticks.map((t) => (
            <g key={`x${t}`}>
              <line x1={sx(t)} x2={sx(t)} y1={M.top} y2={M.top + ih} stroke={THEME.grid} />
              <text x={sx(t)} y={M.top + ih + 14} textAnchor="middle" fontSize={10} fill={THEME.text} className="num">
                {fmtPct(t, digitsFor(((data.xt.ticks[1] ?? 1) - (data.xt.ticks[0] ?? 0)) * 100))}
              </text>
            </g>
          ))}
          {data.yt.ticks.map((t) => (
            <g key={`y${t}`}>
              <line x1={M.left} x2={M.left + iw} y1={sy(t)} y2={sy(t)} stroke={t === 0 ? THEME.text : THEME.grid} strokeDasharray={t === 0 ? "3 3" : undefined} />
              <text x={M.left - 5} y={sy(t) + 3} textAnchor="end" fontSize={10} fill={THEME.text} className="num">
                {fmtNum(t, digitsFor((data.yt.ticks[1] ?? 1) - (data.yt.ticks[0] ?? 0)))}
              </text>
            </g>
          ))}
          <rect x={M.left} y={M.top} width={iw} height={ih} fill="none" stroke={THEME.line} />
          <text x={M.left + iw / 2} y={height - 4} textAnchor="middle" fontSize={11} fill={THEME.text}>
            Max drawdown, in-sample (lower is better)
          </text>
          <text x={12} y={M.top + ih / 2} textAnchor="middle" fontSize={11} fill={THEME.text} transform={`rotate(-90 12 ${M.top + ih / 2})`}>
            Sharpe ratio, in-sample
          </text>
          {data.pts.map((p) =>
            data.frontIds.has(p.t.id) ? null : <circle key={p.t.id} cx={sx(p.xy.x)} cy={sy(p.xy.y)} r={2.5} fill={THEME.text} fillOpacity={0.45} />,
          )}
          {frontPath ? <path d={frontPath} fill="none" stroke={THEME.up} strokeWidth={1.5} data-testid="pareto-front-line" /> : null}
          {data.front.map((t) => {
            const p = trialXY(t)!;
            return <circle key={`f${t.id}`} cx={sx(p.x)} cy={sy(p.y)} r={4} fill={THEME.up} stroke={THEME.bg} strokeWidth={1} data-front-id={t.id} />;
          })}
          {bestXY ? (
            <g data-testid="pareto-best">
              <circle cx={sx(bestXY.x)} cy={sy(bestXY.y)} r={8} fill="none" stroke={THEME.warn} strokeWidth={2} />
              <text x={sx(bestXY.x) + 10} y={sy(bestXY.y) - 8} fontSize={10} fill={THEME.warn}>
                best
              </text>
            </g>
          ) : null}
          {curXY ? <circle cx={sx(curXY.x)} cy={sy(curXY.y)} r={6} fill="none" stroke={THEME.info} strokeWidth={1.5} /> : null}
        </svg>
      </div>
      <p className="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-[11px] text-dim">
        <span>
          <span style={{ color: THEME.text }}>●</span> trials ({fmtInt(data.pts.length)})
        </span>
        <span>
          <span style={{ color: THEME.up }}>●</span> Pareto front ({fmtInt(data.front.length)}): no other trial has both a lower drawdown and a higher Sharpe
        </span>
        <span>
          <span style={{ color: THEME.warn }}>◯</span> best by {objectiveLabel(objective)}
        </span>
      </p>
    </div>
  );
}

/** Per-generation statistics of a genetic search (over each generation's surviving population; in-sample). */
export function GenerationsTable({ generations, objective }: { generations: readonly StoredGeneration[]; objective: string }) {
  if (generations.length === 0) return <p className="p-4 text-sm text-dim">No generation statistics were stored.</p>;
  const th = "px-3 py-2 font-normal whitespace-nowrap";
  const td = "px-3 py-1 whitespace-nowrap text-right";
  return (
    <div className="overflow-x-auto">
      <table className="num w-full text-xs" data-testid="generations-table">
        <thead className="text-left text-[11px] uppercase tracking-wide text-dim">
          <tr>
            <th className={th}>Gen</th>
            <th className={`${th} text-right`}>Evaluated</th>
            <th className={`${th} text-right`}>Cached</th>
            <th className={`${th} text-right`}>Replaced</th>
            <th className={`${th} text-right`}>Best Sharpe</th>
            <th className={`${th} text-right`}>Mean Sharpe</th>
            <th className={`${th} text-right`}>Min max DD</th>
            <th className={`${th} text-right`}>Front size</th>
            <th className={`${th} text-right`}>Best {objectiveLabel(objective)} so far</th>
          </tr>
        </thead>
        <tbody>
          {generations.map((g) => (
            <tr key={g.generation ?? -1} className="border-t border-line">
              <td className="px-3 py-1 text-dim">{g.generation === 0 ? "0 (initial)" : g.generation}</td>
              <td className={td}>{g.evaluated ?? "—"}</td>
              <td className={td}>{g.cached ?? "—"}</td>
              <td className={td}>{g.replaced ?? "—"}</td>
              <td className={td}>{fmtNum(g.bestSharpe, 3)}</td>
              <td className={td}>{fmtNum(g.meanSharpe, 3)}</td>
              <td className={td}>{fmtPct(g.minDrawdownPct)}</td>
              <td className={td}>{g.frontSize ?? "—"}</td>
              <td className={td}>{fmtObjective(objective, g.bestObjective)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="px-3 py-1.5 text-[11px] text-dim">Sharpe and drawdown columns are over each generation&apos;s surviving population; the last column over every trial evaluated so far. All in-sample.</p>
    </div>
  );
}
