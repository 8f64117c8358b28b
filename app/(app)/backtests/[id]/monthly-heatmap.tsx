import { MONTH_NAMES, cellPct, heatColor, monthlyGrid, type MonthRow } from "../report-model";

/** Years x months of returns in %, coloured by sign and size; the last column compounds the year's months. */
export function MonthlyHeatmap({ monthly }: { monthly: MonthRow[] }) {
  const { years, maxAbsMonth, maxAbsYear } = monthlyGrid(monthly);
  if (years.length === 0) return <p className="p-4 text-sm text-dim">The run stored no monthly returns.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="num w-full min-w-[640px] border-collapse text-right text-[11px]" data-testid="monthly-heatmap">
        <caption className="px-3 py-1.5 text-left text-[11px] text-dim">Monthly returns, % (UTC months; month-end equity over the previous month-end). Year = the months compounded.</caption>
        <thead className="text-dim">
          <tr>
            <th className="px-2 py-1 text-left font-normal">Year</th>
            {MONTH_NAMES.map((m) => (
              <th key={m} className="px-1 py-1 font-normal">
                {m}
              </th>
            ))}
            <th className="border-l border-line px-2 py-1 font-normal">Year</th>
          </tr>
        </thead>
        <tbody>
          {years.map((y) => (
            <tr key={y.year} className="border-t border-line">
              <th scope="row" className="px-2 py-1 text-left font-normal text-dim">
                {y.year}
              </th>
              {y.months.map((r, i) => (
                <td key={i} className="px-1 py-1" style={{ background: r === null ? undefined : heatColor(r, maxAbsMonth) }} title={r === null ? "no bars" : `${MONTH_NAMES[i]} ${y.year}: ${(r * 100).toFixed(2)}%`}>
                  {r === null ? "" : cellPct(r)}
                </td>
              ))}
              <td className="border-l border-line px-2 py-1 font-semibold" style={{ background: heatColor(y.total, maxAbsYear) }}>
                {cellPct(y.total)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
