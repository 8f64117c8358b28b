"use client";
import { useEffect, useMemo, useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { Field, inputCls } from "@/app/(app)/backtests/ui";
import { type NetLayout, type NetworkView, CARTPOLE_OBS, actionLabels, fmtValue, inputLabels, networkLayout, parseObs } from "./model";
import type { NetworkSpecLike } from "@/engine/rl/train/network";
import type { ModelListRow } from "./types";

const THRESHOLDS = [0, 0.1, 0.2, 0.4, 0.6] as const;

type NetSpec = NetworkSpecLike;

/** The observation size a network takes (older MLP models: its first layer). */
function specObsSize(n: NetSpec): number {
  if (typeof n.obsSize === "number") return n.obsSize;
  if (n.kind === "attention" && n.attention) return n.attention.window * n.attention.features + n.attention.extra;
  return n.sizes[0]!;
}

function netSpec(m: ModelListRow | undefined): NetSpec | null {
  const n = (m?.hyperparams as { network?: NetSpec } | null)?.network;
  return n && Array.isArray(n.sizes) && n.sizes.length >= 2 ? n : null;
}

/**
 * The network view of a registered model: its layers as columns of neurons
 * coloured by their activation for an observation you set (CartPole: four
 * sliders; other models: a list of numbers), edges coloured by the weight's
 * sign and strength, and the action the policy picks. Every change asks the
 * server again (training.network runs the model's own ONNX weights).
 */
export function NetworkPanel({ models, modelId, onPick }: { models: ModelListRow[]; modelId: string | null; onPick: (id: string) => void }) {
  const model = models.find((m) => m.id === modelId) ?? models[0];
  const [threshold, setThreshold] = useState<number>(0.2);
  if (models.length === 0) return <p className="px-4 py-6 text-sm text-dim">No model is registered yet. A training run registers its policy when it finishes.</p>;
  if (!model) return null;
  return (
    <div className="space-y-3 p-4">
      <div className="grid gap-3 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
        <Field label="Model" id="net-model">
          <select id="net-model" data-testid="network-model" className={inputCls()} value={model.id} onChange={(e) => onPick(e.target.value)}>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name} · {m.algo.toUpperCase()} · {m.env} · {m.id.slice(0, 8)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Hide edges with |w| under" id="net-threshold" hint="of the layer's largest |w|">
          <select id="net-threshold" className={inputCls()} value={threshold} onChange={(e) => setThreshold(Number(e.target.value))}>
            {THRESHOLDS.map((t) => (
              <option key={t} value={t}>
                {t === 0 ? "show all" : `${t * 100}%`}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {/* keyed: another model starts again from the all-zero observation */}
      <ModelNetwork key={model.id} model={model} threshold={threshold} />
    </div>
  );
}

/** The observation editor and the picture for one model. */
function ModelNetwork({ model, threshold }: { model: ModelListRow; threshold: number }) {
  const spec = netSpec(model);
  const obsSize = spec ? specObsSize(spec) : 0;
  const attention = spec?.kind === "attention" ? spec.attention : undefined;
  const isCartPole = model.env === "cartpole" && obsSize === 4;
  const dueling = (model.hyperparams as { dueling?: unknown } | null)?.dueling === true;
  const zeros = () => new Array<number>(obsSize).fill(0);
  const [obs, setObs] = useState<number[]>(zeros);
  const [text, setText] = useState(() => zeros().join(", "));

  const parsed = isCartPole ? null : parseObs(text, obsSize);
  const textError = parsed && "error" in parsed ? parsed.error : null;
  const wanted = isCartPole ? obs : parsed && "obs" in parsed ? parsed.obs : null;
  const wantedKey = wanted ? wanted.join(",") : "";
  const [debounced, setDebounced] = useState<number[] | null>(wanted);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(wantedKey === "" && obsSize > 0 ? null : wantedKey.split(",").filter(Boolean).map(Number)), 80);
    return () => clearTimeout(t);
  }, [wantedKey, obsSize]);

  const ready = !!spec && debounced !== null && debounced.length === obsSize;
  const net = trpc.training.network.useQuery({ modelId: model.id, obs: ready ? debounced : undefined }, { enabled: ready, placeholderData: (prev) => prev, staleTime: 60_000 });

  if (!spec) return <p className="text-sm text-dim">This model has no network description, so it cannot be drawn.</p>;
  const numActions = spec.sizes[spec.sizes.length - 1]! - (dueling ? 1 : 0);
  const labels = actionLabels(model.env, model.featureSpec, numActions);

  return (
    <>
      <fieldset className="min-w-0 border border-line bg-bg/40 px-3 py-2">
        <legend className="px-1 text-[11px] uppercase tracking-wide text-dim">Observation ({obsSize} values)</legend>
        {isCartPole ? (
          <div className="grid gap-x-6 gap-y-2 sm:grid-cols-2">
            {CARTPOLE_OBS.map((o, i) => (
              <label key={o.label} className="block min-w-0 text-xs">
                <span className="flex justify-between gap-2">
                  <span className="text-dim">
                    {o.label} <span className="text-[10px]">({o.unit})</span>
                  </span>
                  <span className="num">{(obs[i] ?? 0).toFixed(o.step < 0.01 ? 3 : 2)}</span>
                </span>
                <input
                  type="range"
                  data-testid={`obs-${i}`}
                  min={o.min}
                  max={o.max}
                  step={o.step}
                  value={obs[i] ?? 0}
                  onChange={(e) => {
                    const x = Number(e.target.value);
                    setObs((p) => p.map((y, j) => (j === i ? x : y)));
                  }}
                  className="mt-1 w-full accent-[#3fd08a]"
                  aria-describedby={o.hint ? `obs-hint-${i}` : undefined}
                />
                {o.hint ? (
                  <span id={`obs-hint-${i}`} className="text-[10px] text-dim">
                    {o.hint}
                  </span>
                ) : null}
              </label>
            ))}
          </div>
        ) : (
          <div>
            <textarea
              data-testid="obs-text"
              aria-label="Observation values, comma-separated"
              aria-invalid={textError ? true : undefined}
              rows={3}
              className={`${inputCls(!!textError)} num text-xs`}
              value={text}
              onChange={(e) => setText(e.target.value)}
            />
            <p className="mt-1 text-[11px] text-dim">
              {model.env === "trading" ? "Trading observation: the window's normalised feature rows, oldest first, then position and unrealised P&L (scaled). " : ""}
              Numbers separated by commas or spaces, or a JSON array.
            </p>
            {textError ? (
              <p role="alert" className="mt-1 text-xs text-bad">
                {textError}
              </p>
            ) : null}
          </div>
        )}
        <button
          type="button"
          className="mt-2 text-[11px] text-dim underline hover:text-fg"
          onClick={() => {
            setObs(zeros());
            setText(zeros().join(", "));
          }}
        >
          all zeros
        </button>
      </fieldset>

      {net.error ? (
        <p role="alert" className="border border-bad/40 bg-bad/10 px-3 py-2 text-sm text-bad">
          {net.error.message}
        </p>
      ) : null}
      {net.data ? (
        <>
          {net.data.attention ? <AttentionMaps attention={net.data.attention} /> : null}
          <NetworkPicture
            view={net.data}
            dueling={dueling}
            threshold={threshold}
            actionNames={labels}
            inputNames={attention ? [...Array.from({ length: attention.dModel }, (_, i) => `enc ${i}`), ...(attention.extra === 2 ? ["position", "uP&L"] : Array.from({ length: attention.extra }, (_, i) => `extra ${i}`))] : inputLabels(model.env, obsSize)}
            inputTitle={attention ? "encoding" : "input"}
            stale={net.isFetching}
          />
        </>
      ) : net.isLoading ? (
        <p className="text-sm text-dim">Reading the model…</p>
      ) : null}
    </>
  );
}

/** The drawing itself (pure: a view in, SVG out). */
export function NetworkPicture({
  view,
  dueling = false,
  threshold = 0.2,
  actionNames,
  inputNames,
  inputTitle = "input",
  stale = false,
}: {
  view: NetworkView;
  dueling?: boolean;
  threshold?: number;
  actionNames: string[];
  inputNames: string[] | null;
  inputTitle?: string;
  stale?: boolean;
}) {
  const layout: NetLayout = useMemo(() => networkLayout(view, { threshold, dueling, colGap: 110, padX: 84, padY: 26 }), [view, threshold, dueling]);
  const L = view.layers.length;
  const out = view.layers[L - 1]!;
  const outNames = dueling ? ["V (value)", ...actionNames.map((a) => `A: ${a}`)] : actionNames;
  const chosen = actionNames[view.action] ?? `action ${view.action}`;
  const chosenValue = dueling ? null : out.activations[view.action];
  return (
    <div className="min-w-0 space-y-2">
      <p className="text-sm" data-testid="network-action" data-action={view.action}>
        Action for this observation: <span className="num text-accent">{chosen}</span>
        <span className="num text-xs text-dim">
          {" "}
          (action {view.action}
          {chosenValue !== undefined && chosenValue !== null ? `, ${view.output === "logits" ? "logit" : "Q"} ${fmtValue(chosenValue)}` : ""}; the greedy choice: the highest {view.output === "logits" ? "logit" : "Q-value"})
        </span>
        {stale ? <span className="ml-2 text-[11px] text-dim">updating…</span> : null}
      </p>
      <div className="overflow-x-auto border border-line bg-bg" data-testid="network-scroll">
        <svg width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`} role="img" aria-label={`Network ${view.sizes.join("-")}, ${view.activation} hidden layers; chosen action ${chosen}`} className="block">
          <g>
            {layout.edges.map((e, i) => (
              <line key={i} x1={e.x1} y1={e.y1} x2={e.x2} y2={e.y2} stroke={e.color} strokeOpacity={e.opacity} strokeWidth={e.width} />
            ))}
          </g>
          {layout.columns.map((c, li) => (
            <text key={li} x={c.x} y={12} textAnchor="middle" className="fill-[#7d8a96] font-mono text-[10px]">
              {li === 0 ? inputTitle : li === L - 1 ? view.output : c.activation} {c.size}
              {c.stride > 1 ? ` (1/${c.stride})` : ""}
            </text>
          ))}
          {layout.actionNode ? <circle cx={layout.actionNode.x} cy={layout.actionNode.y} r={layout.actionNode.r + 4} fill="none" stroke="#3fd08a" strokeWidth={2} data-testid="network-action-node" /> : null}
          {layout.nodes.map((n) => (
            <circle key={`${n.layer}-${n.index}`} cx={n.x} cy={n.y} r={n.r} fill={n.fill} stroke="#232d36" strokeWidth={0.75}>
              <title>{`${n.layer === 0 ? (inputNames?.[n.index] ?? `input ${n.index}`) : n.layer === L - 1 ? (outNames[n.index] ?? `output ${n.index}`) : `layer ${n.layer} neuron ${n.index}`}: ${fmtValue(n.value)}`}</title>
            </circle>
          ))}
          {inputNames
            ? layout.nodes
                .filter((n) => n.layer === 0)
                .map((n) => (
                  <text key={`in-${n.index}`} x={n.x - n.r - 5} y={n.y + 3} textAnchor="end" className="fill-[#d5dde4] font-mono text-[10px]">
                    {inputNames[n.index]} {fmtValue(n.value)}
                  </text>
                ))
            : null}
          {layout.nodes
            .filter((n) => n.layer === L - 1 && out.size <= 16)
            .map((n) => {
              const isChosen = layout.actionNode === n;
              return (
                <text key={`out-${n.index}`} x={n.x + n.r + 6} y={n.y + 3} className={`font-mono text-[10px] ${isChosen ? "fill-[#3fd08a]" : "fill-[#d5dde4]"}`}>
                  {outNames[n.index] ?? n.index} {fmtValue(n.value)}
                </text>
              );
            })}
        </svg>
      </div>
      <p className="text-[11px] text-dim">
        Neurons: <span className="text-accent">green</span> positive, <span className="text-bad">red</span> negative activation for this observation, stronger colour = larger |a| (tanh layers on ±1, other layers on their own largest |a|). Edges: weights into each layer, <span className="text-accent">green</span> w &gt; 0,{" "}
        <span className="text-bad">red</span> w &lt; 0, thicker = larger |w|; {layout.hiddenEdges > 0 ? `${layout.hiddenEdges.toLocaleString("en-US")} weaker edges not drawn` : "all edges drawn"}. Layers over 64 neurons show every n-th neuron (1/n). Ringed: the chosen action.
      </p>
    </div>
  );
}

/**
 * The attention map of an attention policy for the observation: one square
 * per head, rows = the position attending (query), columns = the position
 * attended to (key), oldest bar first; each row sums to 1, colour = weight.
 */
export function AttentionMaps({ attention }: { attention: NonNullable<NetworkView["attention"]> }) {
  const W = attention.window;
  const cell = Math.max(6, Math.min(22, Math.floor(200 / W)));
  const pad = 34;
  const size = pad + W * cell + 4;
  const pos = (i: number) => (i === W - 1 ? "t" : `t-${W - 1 - i}`);
  return (
    <div className="min-w-0 space-y-2" data-testid="attention-maps">
      <p className="text-sm">
        Attention over the window <span className="num text-xs text-dim">({attention.heads} heads × {W} bars; d = {attention.dModel})</span>
      </p>
      <div className="flex flex-wrap gap-3">
        {attention.maps.map((rows, h) => {
          let max = 0;
          for (const r of rows) for (const x of r) if (x > max) max = x;
          return (
            <figure key={h} className="border border-line bg-bg p-1" data-testid={`attention-head-${h}`}>
              <svg width={size} height={size} viewBox={`0 0 ${size} ${size}`} role="img" aria-label={`Attention head ${h + 1}: rows attend to columns, bars ${pos(0)} to t`} className="block">
                {rows.map((r, q) =>
                  r.map((x, k) => (
                    <rect key={`${q}-${k}`} x={pad + k * cell} y={pad + q * cell} width={cell - 1} height={cell - 1} fill={`rgba(63, 208, 138, ${(0.04 + 0.96 * (max > 0 ? x / max : 0)).toFixed(3)})`}>
                      <title>{`head ${h + 1}: ${pos(q)} attends to ${pos(k)} with weight ${x.toFixed(3)}`}</title>
                    </rect>
                  )),
                )}
                <text x={pad} y={12} className="fill-[#7d8a96] font-mono text-[9px]">
                  key {pos(0)} → t
                </text>
                <text x={4} y={pad + 8} className="fill-[#7d8a96] font-mono text-[9px]">
                  {pos(0)}
                </text>
                <text x={4} y={pad + W * cell - 2} className="fill-[#7d8a96] font-mono text-[9px]">
                  t
                </text>
              </svg>
              <figcaption className="num px-1 text-[10px] text-dim">head {h + 1} · max {max.toFixed(2)}</figcaption>
            </figure>
          );
        })}
      </div>
      <p className="text-[11px] text-dim">Rows: the bar attending (query); columns: the bar attended to (key); oldest first, t = the decision bar. Each row sums to 1; brighter = more weight (scaled to the head&apos;s largest weight). The encoder&apos;s pooled output and the account features feed the head network drawn below.</p>
    </div>
  );
}
