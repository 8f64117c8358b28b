"use client";
import { useMemo, useState } from "react";
import { fmtInt } from "@/app/(app)/markets/format";
import { type ParamValue, type StoredResult, type StoredTrial, buildHeatmap, defaultAxes, fmtObjective, heatCellColor, heatPosition, objectiveLabel } from "../model";

const fmtVal = (v: ParamValue) => String(v);

/**
 * Objective over two parameters of a grid search (in-sample: the trials ran
 * on the data the parameters are chosen on). With more than two parameters
 * each cell is the best trial over the others, and the axes can be chosen.
 * Hover (or tap) a cell for its value and its trial.
 */
export function Heatmap({ result }: { result: Pick<StoredResult, "trials" | "heatmap" | "space" | "objective" | "better"> }) {
  const names = useMemo(() => (result.space?.params ?? []).map((p) => p.name), [result.space]);
  const initial = defaultAxes(result);
  const [x, setX] = useState<string | null>(initial.x);
  const [y, setY] = useState<string | null>(initial.y);
  const [hover, setHover] = useState<{ xi: number; yi: number } | null>(null);
  const [picked, setPicked] = useState<{ xi: number; yi: number } | null>(null);

  const known = useMemo(() => {
    const out: Record<string, ParamValue[]> = {};
    const h = result.heatmap;
    const keep = (vs: readonly (ParamValue | null)[]) => vs.filter((v): v is ParamValue => v !== null);
    if (h?.x) out[h.x.param] = keep(h.x.values);
    if (h?.y) out[h.y.param] = keep(h.y.values);
    return out;
  }, [result.heatmap]);
  const m = useMemo(() => (x ? buildHeatmap(result.trials, x, y && y !== x ? y : null, result.better, known) : null), [result.trials, x, y, result.better, known]);

  if (!x || !m) return <p className="p-4 text-sm text-dim">The space has no parameter to map.</p>;
  const nx = m.x.values.length;
  const ny = m.y ? m.y.values.length : 1;
  const cells = nx * ny;
  const showText = nx <= 10 && ny <= 14;
  const minW = showText ? 44 : nx > 60 ? 6 : 12;
  const rowH = showText ? 28 : ny > 40 ? 8 : 16;
  const focusable = cells <= 400;
  const others = names.filter((n) => n !== m.x.param && n !== m.y?.param);
  // rows top to bottom: the largest y value at the top, as on a chart
  const rowOrder = Array.from({ length: ny }, (_, i) => ny - 1 - i);
  const xLabelEvery = Math.max(1, Math.ceil(nx / (showText ? nx : 12)));
  const yLabelEvery = Math.max(1, Math.ceil(ny / 20));
  const cur = hover ?? picked;
  const curTrial: StoredTrial | null = cur ? (m.trial[cur.yi]?.[cur.xi] ?? null) : null;
  const curValue = cur ? (m.z[cur.yi]?.[cur.xi] ?? null) : null;
  const sel = "rounded-sm border border-line bg-bg px-1.5 py-1 text-xs outline-none focus:border-accent";

  return (
    <div className="min-w-0 space-y-2 p-3" data-testid="heatmap" data-x={m.x.param} data-y={m.y?.param ?? ""} data-cells={cells}>
      {names.length > 2 ? (
        <div className="flex flex-wrap items-center gap-2 text-xs">
          <label className="flex items-center gap-1">
            <span className="text-dim">x axis</span>
            <select className={sel} value={m.x.param} data-testid="heatmap-x" onChange={(e) => {
                const nx2 = e.target.value;
                if (nx2 === y) setY(x); // swap rather than map a parameter against itself
                setX(nx2);
                setPicked(null);
              }}>
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <label className="flex items-center gap-1">
            <span className="text-dim">y axis</span>
            <select className={sel} value={m.y?.param ?? ""} data-testid="heatmap-y" onChange={(e) => {
                setY(e.target.value || null);
                setPicked(null);
              }}>
              <option value="">none (one row)</option>
              {names
                .filter((n) => n !== m.x.param)
                .map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
            </select>
          </label>
        </div>
      ) : null}
      <p className="num min-h-[2.5rem] text-xs break-words" data-testid="heatmap-readout" aria-live="polite">
        {cur ? (
          <>
            <span className="text-fg">
              {m.x.param} = {fmtVal(m.x.values[cur.xi]!)}
              {m.y ? ` · ${m.y.param} = ${fmtVal(m.y.values[cur.yi]!)}` : ""}
            </span>
            <span className="text-dim"> → </span>
            {curValue !== null ? (
              <>
                <span className="text-accent">
                  {objectiveLabel(result.objective)} {fmtObjective(result.objective, curValue)}
                </span>
                <span className="text-dim">
                  {curTrial ? ` · trial #${curTrial.id}` : ""}
                  {others.length && curTrial ? ` · best over ${others.map((o) => `${o} (here ${String(curTrial.params[o])})`).join(", ")}` : ""}
                </span>
              </>
            ) : (
              <span className="text-dim">no successful trial (skipped by the strategy&apos;s check, failed, or not run)</span>
            )}
          </>
        ) : (
          <span className="text-dim">Hover or tap a cell for its value.</span>
        )}
      </p>
      <div className="overflow-x-auto">
        <div
          className="grid gap-px"
          style={{ gridTemplateColumns: `auto repeat(${nx}, minmax(${minW}px, 1fr))` }}
          role="grid"
          aria-label={`${objectiveLabel(result.objective)} by ${m.x.param}${m.y ? ` and ${m.y.param}` : ""}, in-sample`}
          onMouseLeave={() => setHover(null)}
        >
          {rowOrder.map((yi, r) => (
            <div key={yi} role="row" className="contents">
              <div role="rowheader" className="num pr-1.5 text-right text-[10px] leading-none text-dim" style={{ height: rowH, lineHeight: `${rowH}px` }}>
                {m.y ? ((ny - 1 - yi) % yLabelEvery === 0 || r === ny - 1 ? fmtVal(m.y.values[yi]!) : "") : ""}
              </div>
              {m.x.values.map((_, xi) => {
                const v = m.z[yi]![xi]!;
                const isCur = cur?.xi === xi && cur?.yi === yi;
                const title = `${m.x.param}=${fmtVal(m.x.values[xi]!)}${m.y ? `, ${m.y.param}=${fmtVal(m.y.values[yi]!)}` : ""}: ${v === null ? "no successful trial" : `${objectiveLabel(result.objective)} ${fmtObjective(result.objective, v)}`}`;
                return (
                  <div
                    key={xi}
                    role="gridcell"
                    title={title}
                    aria-label={title}
                    tabIndex={focusable ? 0 : undefined}
                    data-value={v ?? ""}
                    onMouseEnter={() => setHover({ xi, yi })}
                    onFocus={() => setPicked({ xi, yi })}
                    onClick={() => setPicked((p) => (p && p.xi === xi && p.yi === yi ? null : { xi, yi }))}
                    className={`num flex cursor-pointer items-center justify-center overflow-hidden text-[10px] ${isCur ? "outline outline-1 outline-fg" : ""}`}
                    style={{
                      height: rowH,
                      background: v === null || m.min === null || m.max === null ? "repeating-linear-gradient(45deg, #10151a 0 3px, #151c23 3px 6px)" : heatCellColor(heatPosition(v, m.min, m.max, m.better)),
                      color: "#0a0d10",
                    }}
                  >
                    {showText && v !== null ? <span className="truncate px-0.5 font-medium">{fmtObjective(result.objective, v)}</span> : null}
                  </div>
                );
              })}
            </div>
          ))}
          <div />
          {m.x.values.map((xv, xi) => (
            <div key={xi} className="num truncate pt-1 text-center text-[10px] text-dim">
              {xi % xLabelEvery === 0 || xi === nx - 1 ? fmtVal(xv) : ""}
            </div>
          ))}
        </div>
      </div>
      <div className="flex flex-wrap items-center justify-between gap-2 text-[11px] text-dim">
        <span className="num">
          x: {m.x.param}
          {m.y ? ` · y: ${m.y.param}` : ""} · {fmtInt(nx)} × {fmtInt(ny)} cells
        </span>
        {m.min !== null && m.max !== null ? (
          <span className="num flex items-center gap-1.5">
            <span>worst {fmtObjective(result.objective, m.better === "lower" ? m.max : m.min)}</span>
            <span className="inline-block h-2 w-24 border border-line" style={{ background: `linear-gradient(to right, ${heatCellColor(0)}, ${heatCellColor(0.5)}, ${heatCellColor(1)})` }} />
            <span>best {fmtObjective(result.objective, m.better === "lower" ? m.min : m.max)}</span>
          </span>
        ) : null}
      </div>
      <p className="text-[11px] text-dim">
        Colour: the {objectiveLabel(result.objective)} ({result.better} is better) of each combination, in-sample (on the data the parameters are chosen on).
        {others.length ? ` Each cell shows the best over ${others.join(", ")}.` : ""} Hatched cells had no successful trial. A lone bright cell among dull ones is a warning sign of overfitting; a broad bright plateau is more robust.
      </p>
    </div>
  );
}
