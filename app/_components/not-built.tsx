/** The honest placeholder for a page whose issue has not landed yet. No sample data. */
export function NotBuilt({ title, summary, planned }: { title: string; summary: string; planned: string[] }) {
  return (
    <section className="max-w-2xl">
      <h1 className="text-lg font-semibold">{title}</h1>
      <div className="mt-4 border border-warn/40 bg-warn/5 p-4">
        <p className="num text-xs uppercase tracking-wide text-warn">Not built yet</p>
        <p className="mt-2 text-sm">{summary}</p>
        <p className="mt-3 text-xs text-dim">Planned for this page:</p>
        <ul className="mt-1 list-inside list-disc space-y-0.5 text-sm text-dim">
          {planned.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      </div>
    </section>
  );
}
