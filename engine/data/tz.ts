/**
 * Time-zone offsets from Intl (no date library), shared by the CSV reader and
 * the trading calendars. Calls Intl: callers cache results so that no per-row
 * or per-bar loop calls it.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** A cached h23 numeric formatter for the zone (throws RangeError for unknown zones). */
export function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** UTC offset (local wall clock minus UTC, ms) of `timeZone` at instant `utc` (second resolution). */
export function tzOffset(timeZone: string, utc: number): number {
  if (timeZone === "UTC") return 0;
  const t = Math.floor(utc / 1000) * 1000; // Intl has second resolution
  let y = 1970;
  let mo = 1;
  let d = 1;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of zoneFormatter(timeZone).formatToParts(t)) {
    switch (p.type) {
      case "year": y = Number(p.value); break;
      case "month": mo = Number(p.value); break;
      case "day": d = Number(p.value); break;
      case "hour": h = Number(p.value) % 24; break;
      case "minute": mi = Number(p.value); break;
      case "second": s = Number(p.value); break;
      default: break;
    }
  }
  const wall = new Date(0);
  wall.setUTCFullYear(y, mo - 1, d); // not Date.UTC: it maps years 0..99 to 19xx
  wall.setUTCHours(h, mi, s, 0);
  return wall.getTime() - t;
}
