"use client";
import { useState } from "react";
import { trpc } from "@/app/_components/trpc";
import { CALENDAR_IDS, INSTRUMENT_KINDS } from "@/engine/data/instruments";
import type { Instrument } from "@/engine/data/types";

const field = "w-full rounded-sm border border-line bg-bg px-2 py-1.5 text-sm outline-none focus:border-accent";

export function InstrumentForm({ initial, onDone }: { initial?: Instrument; onDone: () => void }) {
  const [v, setV] = useState({
    symbol: initial?.symbol ?? "",
    name: initial?.name ?? "",
    kind: initial?.kind ?? "future",
    tickSize: String(initial?.tickSize ?? ""),
    pointValue: String(initial?.pointValue ?? ""),
    currency: initial?.currency ?? "USD",
    commission: String(initial?.commission ?? "0"),
    commissionType: initial?.commissionType ?? "per_contract",
    calendar: initial?.calendar ?? "cme-globex",
  });
  const save = trpc.market.saveInstrument.useMutation({ onSuccess: onDone });
  const errs = save.error?.data?.zodError?.fieldErrors as Record<string, string[] | undefined> | undefined;
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  const err = (k: string) => (errs?.[k] ? <span className="text-bad">{errs[k]![0]}</span> : null);
  return (
    <form
      className="grid gap-3 border-b border-line p-4 sm:grid-cols-3 lg:grid-cols-5"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate({ ...v, tickSize: Number(v.tickSize), pointValue: Number(v.pointValue), commission: Number(v.commission) } as Parameters<typeof save.mutate>[0]);
      }}
    >
      <label className="block text-xs text-dim">Symbol<input aria-label="Instrument symbol" className={field} value={v.symbol} onChange={set("symbol")} disabled={!!initial} />{err("symbol")}</label>
      <label className="block text-xs text-dim sm:col-span-2">Name<input aria-label="Instrument name" className={field} value={v.name} onChange={set("name")} />{err("name")}</label>
      <label className="block text-xs text-dim">Kind<select aria-label="Instrument kind" className={field} value={v.kind} onChange={set("kind")}>{INSTRUMENT_KINDS.map((k) => <option key={k}>{k}</option>)}</select></label>
      <label className="block text-xs text-dim">Calendar<select aria-label="Instrument calendar" className={field} value={v.calendar} onChange={set("calendar")}>{CALENDAR_IDS.map((k) => <option key={k}>{k}</option>)}</select></label>
      <label className="block text-xs text-dim">Tick size<input aria-label="Tick size" inputMode="decimal" className={field} value={v.tickSize} onChange={set("tickSize")} />{err("tickSize")}</label>
      <label className="block text-xs text-dim">Point value<input aria-label="Point value" inputMode="decimal" className={field} value={v.pointValue} onChange={set("pointValue")} />{err("pointValue")}</label>
      <label className="block text-xs text-dim">Currency<input aria-label="Currency" className={field} value={v.currency} onChange={set("currency")} />{err("currency")}</label>
      <label className="block text-xs text-dim">Commission<input aria-label="Commission" inputMode="decimal" className={field} value={v.commission} onChange={set("commission")} />{err("commission")}</label>
      <label className="block text-xs text-dim">Commission is<select aria-label="Commission type" className={field} value={v.commissionType} onChange={set("commissionType")}><option value="per_contract">per contract per side</option><option value="percent">% of notional</option></select></label>
      <div className="flex items-end gap-2 sm:col-span-3 lg:col-span-5">
        <button type="submit" disabled={save.isPending} className="rounded-sm bg-accent px-3 py-1.5 text-sm font-medium text-bg disabled:opacity-60">Save instrument</button>
        <button type="button" className="rounded-sm border border-line px-3 py-1.5 text-sm text-dim" onClick={onDone}>Cancel</button>
        {save.error && !errs ? <span className="text-xs text-bad">{save.error.message}</span> : null}
      </div>
    </form>
  );
}
