"use client";
import { useEffect, useState } from "react";
import { FieldErrors, NumberField, SelectField, TextField, labelCls, useEditor } from "./fields";
import { defaultSession, exitOfType, sizingOfType, type Exit, type Sizing } from "./spec-edit";

const panel = "border border-line bg-panel";
const head = "border-b border-line px-3 py-2 text-sm font-semibold";

export function NameEditor() {
  return (
    <section className={panel} aria-labelledby="h-strategy">
      <h2 id="h-strategy" className={head}>
        Strategy
      </h2>
      <div className="grid gap-3 p-3 sm:grid-cols-[minmax(0,16rem)_minmax(0,1fr)]">
        <TextField path={["name"]} label="Name" placeholder="e.g. trend-rsi" />
        <TextField path={["description"]} label="Description" placeholder="What it does, in a sentence" multiline />
      </div>
    </section>
  );
}

const EXIT_OPTIONS: { value: "none" | Exit["type"]; label: string }[] = [
  { value: "none", label: "None" },
  { value: "ticks", label: "Ticks" },
  { value: "atr", label: "ATR multiple" },
];

function ExitEditor({ which, label }: { which: "stopLoss" | "takeProfit"; label: string }) {
  const { spec, set } = useEditor();
  const e = spec[which];
  return (
    <div className="min-w-0 space-y-1" data-testid={`exit-${which}`}>
      <div className="grid grid-cols-2 gap-2 sm:grid-cols-3">
        <SelectField path={[which, "type"]} label={label} value={e?.type ?? "none"} options={EXIT_OPTIONS} onChange={(t) => set([which], exitOfType(t, e))} />
        {e?.type === "ticks" ? <NumberField path={[which, "ticks"]} label="Ticks from entry" /> : null}
        {e?.type === "atr" ? (
          <>
            <NumberField path={[which, "multiple"]} label="× ATR" />
            <NumberField path={[which, "period"]} label="ATR period" step="int" />
          </>
        ) : null}
      </div>
      <FieldErrors path={[which]} />
    </div>
  );
}

const SIZING_OPTIONS: { value: Sizing["type"]; label: string }[] = [
  { value: "fixed", label: "Fixed contracts" },
  { value: "risk_pct", label: "% of equity at risk" },
];

export function RiskEditor() {
  const { spec, set } = useEditor();
  return (
    <section className={panel} aria-labelledby="h-exits">
      <h2 id="h-exits" className={head}>
        Exits and sizing
      </h2>
      <div className="space-y-4 p-3">
        <ExitEditor which="stopLoss" label="Stop-loss" />
        <ExitEditor which="takeProfit" label="Take-profit" />
        <p className="text-[11px] text-dim">Distances are measured from the entry price. With both set, the entry goes in as a bracket order.</p>
        <div className="min-w-0 space-y-1" data-testid="sizing">
          <div className="grid grid-cols-2 gap-2 sm:grid-cols-3">
            <SelectField path={["sizing", "type"]} label="Sizing" value={spec.sizing.type} options={SIZING_OPTIONS} onChange={(t) => set(["sizing"], sizingOfType(t, spec.sizing))} />
            {spec.sizing.type === "fixed" ? <NumberField path={["sizing", "contracts"]} label="Contracts" /> : <NumberField path={["sizing", "percent"]} label="% of equity" />}
          </div>
          <FieldErrors path={["sizing"]} />
          {spec.sizing.type === "risk_pct" ? <p className="text-[11px] text-dim">Contracts = equity × % ÷ (stop distance × point value), rounded down; needs a stop-loss.</p> : null}
        </div>
      </div>
    </section>
  );
}

const HHMM = /^\d{2}:\d{2}$/;

export function SessionEditor() {
  const { spec, set } = useEditor();
  const s = spec.session;
  // Intl's zone list can differ between the server and the browser: fill it after hydration.
  const [zones, setZones] = useState<string[]>([]);
  useEffect(() => {
    const list = (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
    setZones(list.includes("UTC") ? list : ["UTC", ...list]);
  }, []);
  return (
    <section className={panel} aria-labelledby="h-session">
      <h2 id="h-session" className={head}>
        Session filter
      </h2>
      <div className="space-y-3 p-3">
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" aria-label="Trade only inside a session" checked={!!s} onChange={(e) => set(["session"], e.target.checked ? defaultSession() : undefined)} />
          Trade only inside a session
        </label>
        <FieldErrors path={["session"]} />
        {s ? (
          <>
            <div className="grid grid-cols-2 gap-2 sm:grid-cols-[minmax(0,16rem)_8rem_8rem]">
              <div className="col-span-2 min-w-0 sm:col-span-1">
                <TextField path={["session", "timeZone"]} label="Time zone" placeholder="America/New_York" list="builder-zones" />
                <datalist id="builder-zones">
                  {zones.map((z) => (
                    <option key={z} value={z} />
                  ))}
                </datalist>
              </div>
              <TextField path={["session", "start"]} label="Start" type={s.start === "" || HHMM.test(s.start) ? "time" : "text"} placeholder="09:30" />
              <TextField path={["session", "end"]} label="End" type={s.end === "" || HHMM.test(s.end) ? "time" : "text"} placeholder="16:00" />
            </div>
            <label className={`${labelCls} flex items-center gap-2 text-sm text-fg`}>
              <input type="checkbox" aria-label="Flat at session end" checked={s.flatAtEnd} onChange={(e) => set(["session", "flatAtEnd"], e.target.checked)} />
              Close positions and cancel orders at the session end
            </label>
            <FieldErrors path={["session", "flatAtEnd"]} />
            <p className="text-[11px] text-dim">Entries only on bars that open in [start, end) local time. Times are HH:MM, 24-hour.</p>
          </>
        ) : (
          <p className="text-xs text-dim">No session filter: entries on any bar.</p>
        )}
      </div>
    </section>
  );
}
