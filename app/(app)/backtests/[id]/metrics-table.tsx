import { METRIC_GROUPS, formatMetric } from "../report-model";

/** Every stored metric, grouped; "∞" where the engine records an infinite ratio, "—" where the run holds none. */
export function MetricsTable({ metrics, currency, daily }: { metrics: Record<string, unknown> | null; currency: string; daily: boolean }) {
  return (
    <div className="grid gap-px bg-line sm:grid-cols-2 xl:grid-cols-3" data-testid="metrics-table">
      {METRIC_GROUPS.map((g) => (
        <table key={g.title} className="w-full bg-panel text-sm">
          <caption className="bg-panel px-3 pt-3 pb-1 text-left text-[11px] uppercase tracking-wide text-dim">{g.title}</caption>
          <tbody>
            {g.metrics.map((m) => (
              <tr key={m.key} className="border-t border-line/60" data-metric={m.key}>
                <th scope="row" className="px-3 py-1 text-left text-xs font-normal text-dim">
                  {m.label}
                </th>
                <td className="num px-3 py-1 text-right text-xs whitespace-nowrap">{formatMetric(metrics, m, currency, daily)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </div>
  );
}
