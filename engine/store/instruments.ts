/** Instrument repository over the Sql port; returns plain domain objects. */
import { BUILTIN_INSTRUMENTS } from "../data/instruments";
import type { CalendarId, Instrument, InstrumentKind } from "../data/types";
import type { SqlExec } from "./sql";

type Row = { symbol: string; name: string; kind: string; tickSize: number; pointValue: number; currency: string; commission: number; commissionType: string; calendar: string; builtin: number | boolean };

export interface InstrumentRecord extends Instrument {
  builtin: boolean;
}

function toRecord(r: Row): InstrumentRecord {
  return {
    symbol: r.symbol,
    name: r.name,
    kind: r.kind as InstrumentKind,
    tickSize: Number(r.tickSize),
    pointValue: Number(r.pointValue),
    currency: r.currency,
    commission: Number(r.commission),
    commissionType: r.commissionType === "percent" ? "percent" : "per_contract",
    calendar: r.calendar as CalendarId,
    builtin: r.builtin === true || r.builtin === 1,
  };
}

const COLS = `"symbol","name","kind","tickSize","pointValue","currency","commission","commissionType","calendar","builtin"`;

function bool(db: SqlExec, v: boolean): boolean | number {
  return db.kind === "sqlite" ? (v ? 1 : 0) : v;
}

function now(db: SqlExec): string | Date {
  return db.kind === "sqlite" ? new Date().toISOString() : new Date();
}

/** Inserts the built-in instruments that are missing; never overwrites a user's edits. */
export async function ensureBuiltinInstruments(db: SqlExec): Promise<number> {
  let added = 0;
  const existing = new Set((await db.all<{ symbol: string }>(`SELECT "symbol" FROM "Instrument"`)).map((r) => r.symbol));
  for (const i of BUILTIN_INSTRUMENTS) {
    if (existing.has(i.symbol)) continue;
    await db.run(`INSERT INTO "Instrument" (${COLS},"updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("symbol") DO NOTHING`, [
      i.symbol, i.name, i.kind, i.tickSize, i.pointValue, i.currency, i.commission, i.commissionType, i.calendar, bool(db, true), now(db),
    ]);
    added++;
  }
  return added;
}

export async function listInstruments(db: SqlExec): Promise<InstrumentRecord[]> {
  return (await db.all<Row>(`SELECT ${COLS} FROM "Instrument" ORDER BY "symbol"`)).map(toRecord);
}

export async function getInstrument(db: SqlExec, symbol: string): Promise<InstrumentRecord | undefined> {
  const rows = await db.all<Row>(`SELECT ${COLS} FROM "Instrument" WHERE "symbol" = ?`, [symbol]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Creates or updates an instrument (the built-in flag is kept as it was). */
export async function upsertInstrument(db: SqlExec, i: Instrument): Promise<InstrumentRecord> {
  await db.run(
    `INSERT INTO "Instrument" (${COLS},"updatedAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT ("symbol") DO UPDATE SET "name" = excluded."name", "kind" = excluded."kind", "tickSize" = excluded."tickSize", "pointValue" = excluded."pointValue",
       "currency" = excluded."currency", "commission" = excluded."commission", "commissionType" = excluded."commissionType", "calendar" = excluded."calendar", "updatedAt" = excluded."updatedAt"`,
    [i.symbol, i.name, i.kind, i.tickSize, i.pointValue, i.currency, i.commission, i.commissionType, i.calendar, bool(db, false), now(db)],
  );
  const saved = await getInstrument(db, i.symbol);
  if (!saved) throw new Error(`instrument ${i.symbol} was not saved`);
  return saved;
}
