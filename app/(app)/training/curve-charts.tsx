"use client";
import { useMemo, useState } from "react";
import { type ChartSpec, type CurvePoint, type XY, CURVE_LABELS, fmtSteps, fmtValue, nearest, polyline, seriesOf, thin, yExtent } from "./model";

export interface CurveRun {
  id: string;
  label: string;
  color: string;
  /** This run's own points (stored merged with streamed); never another run's. */
  points: readonly CurvePoint[];
}

const W = 300;
const H = 100;

/**
 * Small multiples: one line chart per training quantity, all on the same
 * step axis; each run in its own colour. Hovering (or touching) a chart
 * reads every chart at that step.
 */
export function CurveCharts({ charts, runs, xMax }: { charts: ChartSpec[]; runs: CurveRun[]; xMax: number }) {
  const [hover, setHover] = useState<number | null>(null);
  const x: [number, number] = [0, Math.max(1, xMax)];
  return (
    <div className="grid gap-px bg-line sm:grid-cols-2 xl:grid-cols-3">
      {charts.map((c) => (
        <CurveChart key={c.id} spec={c} runs={runs} x={x} hover={hover} onHover={setHover} />
      ))}
    </div>
  );
}

function CurveChart({ spec, runs, x, hover, onHover }: { spec: ChartSpec; runs: CurveRun[]; x: [number, number]; hover: number | null; onHover: (step: number | null) => void }) {
  const series = useMemo(
    () =>
      runs.flatMap((r) =>
        spec.keys.map((k, i) => {
          const full = seriesOf(r.points, k);
          return { run: r, key: k, main: i === 0, full, drawn: thin(full, 500) };
        }),
      ),
    [runs, spec],
  );
  const withData = series.filter((s) => s.full.length > 0);
  const y = yExtent(withData.map((s) => s.drawn));
  const mains = series.filter((s) => s.main);
  const readout = mains.map((s) => {
    const p: XY | null = hover !== null ? nearest(s.full, hover) : (s.full[s.full.length - 1] ?? null);
    return { s, p };
  });
  const hoverPct = hover !== null ? Math.min(100, Math.max(0, ((hover - x[0]) / (x[1] - x[0])) * 100)) : null;

  const onMove = (e: React.PointerEvent<HTMLDivElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    if (rect.width <= 0) return;
    const f = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    onHover(x[0] + f * (x[1] - x[0]));
  };

  return (
    <figure className="min-w-0 bg-panel" data-chart={spec.id}>
      <figcaption className="flex flex-wrap items-baseline justify-between gap-x-2 px-3 pt-2">
        <span className="text-xs font-medium" title={spec.hint}>
          {spec.title}
        </span>
        <span className="num text-[10px] text-dim">{hover !== null ? `step ${fmtSteps(hover)}` : "latest"}</span>
      </figcaption>
      <div className="num flex min-h-4 flex-wrap gap-x-3 px-3 text-[11px]" aria-live="off">
        {readout.map(({ s, p }) => (
          <span key={`${s.run.id}-${s.key}`} style={{ color: s.run.color }} title={`${s.run.label}: ${CURVE_LABELS[s.key]}`}>
            {runs.length > 1 ? <span className="mr-1 inline-block h-1.5 w-1.5 align-middle" style={{ background: s.run.color }} /> : null}
            {p ? fmtValue(p[1]) : "—"}
          </span>
        ))}
      </div>
      <div className="relative mx-3 mt-1 h-28 touch-pan-y border-b border-l border-line" onPointerMove={onMove} onPointerDown={onMove} onPointerLeave={() => onHover(null)}>
        {y ? (
          <>
            <svg role="img" aria-label={`${spec.title} against environment steps`} viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" className="absolute inset-0 h-full w-full overflow-visible">
              {y[0] < 0 && y[1] > 0 ? <line x1={0} x2={W} y1={H - ((0 - y[0]) / (y[1] - y[0])) * H} y2={H - ((0 - y[0]) / (y[1] - y[0])) * H} stroke="#232d36" strokeDasharray="3 3" vectorEffect="non-scaling-stroke" /> : null}
              {series
                .filter((s) => s.drawn.length > 0)
                .sort((a, b) => Number(a.main) - Number(b.main))
                .map((s) =>
                  s.drawn.length === 1 ? (
                    <circle key={`${s.run.id}-${s.key}`} cx={((s.drawn[0]![0] - x[0]) / (x[1] - x[0])) * W} cy={H - ((s.drawn[0]![1] - y[0]) / (y[1] - y[0])) * H} r={1.5} fill={s.run.color} />
                  ) : (
                    <polyline
                      key={`${s.run.id}-${s.key}`}
                      points={polyline(s.drawn, x, y, W, H)}
                      fill="none"
                      stroke={s.run.color}
                      strokeOpacity={s.main ? 1 : 0.3}
                      strokeWidth={s.main ? 1.5 : 1}
                      vectorEffect="non-scaling-stroke"
                      strokeLinejoin="round"
                    />
                  ),
                )}
            </svg>
            <span className="num pointer-events-none absolute top-0 left-1 text-[10px] text-dim">{fmtValue(y[1])}</span>
            <span className="num pointer-events-none absolute bottom-0 left-1 text-[10px] text-dim">{fmtValue(y[0])}</span>
            {hoverPct !== null ? <div className="pointer-events-none absolute inset-y-0 w-px bg-dim/60" style={{ left: `${hoverPct}%` }} /> : null}
          </>
        ) : (
          <p className="absolute inset-0 flex items-center justify-center text-[11px] text-dim">no values yet</p>
        )}
      </div>
      <div className="num flex justify-between gap-2 px-3 pt-0.5 pb-2 text-[10px] text-dim">
        <span className="shrink-0">0</span>
        <span className="min-w-0 truncate font-sans" title={spec.hint}>
          {spec.hint}
        </span>
        <span className="shrink-0">{fmtSteps(x[1])} steps</span>
      </div>
    </figure>
  );
}
