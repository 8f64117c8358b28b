/** A tiny SVG line chart of recent values; no axes, the latest value is drawn as a dot. */
export function Sparkline({ values, width = 240, height = 40, label, color = "var(--color-accent)" }: { values: number[]; width?: number; height?: number; label: string; color?: string }) {
  if (values.length < 2) {
    return <svg role="img" aria-label={`${label}: waiting for data`} width="100%" height={height} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" />;
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min || Math.abs(max) || 1;
  const step = width / (values.length - 1);
  const y = (v: number) => height - 2 - ((v - min) / span) * (height - 4);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  const last = values[values.length - 1] ?? 0;
  return (
    <svg role="img" aria-label={label} width="100%" height={height} viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none">
      <polyline points={points} fill="none" stroke={color} strokeWidth="1.25" vectorEffect="non-scaling-stroke" />
      <circle cx={width} cy={y(last)} r="2" fill={color} />
    </svg>
  );
}
