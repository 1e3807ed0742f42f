import { useI18n } from '../i18n.js';

/** Bars of counts per hour for the last 24 hours, drawn in SVG (no chart library, nothing inline). */
/** `capped`: the times are only the newest page of a busier day; the caption says so. */
export function TrendChart(props: { times: string[]; now: number; capped?: boolean }) {
  const { t } = useI18n();
  const hour = 3600_000;
  const end = Math.floor(props.now / hour) * hour + hour;
  const buckets = Array.from({ length: 24 }, () => 0);
  for (const iso of props.times) {
    const index = 23 - Math.floor((end - 1 - new Date(iso).getTime()) / hour);
    if (index >= 0 && index < 24) buckets[index]! += 1;
  }
  const max = Math.max(1, ...buckets);
  const width = 480;
  const height = 120;
  const bar = width / 24;
  return (
    <figure class="trend">
      <svg
        viewBox={`0 0 ${width} ${height + 16}`}
        role="img"
        aria-label={`${t('trend')} (${t('eventsPerHour')})`}
      >
        <line x1="0" y1={height} x2={width} y2={height} class="axis" />
        {buckets.map((count, i) => {
          const h = (count / max) * (height - 12);
          return (
            <rect key={i} x={i * bar + 2} y={height - h} width={bar - 4} height={h} class="bar">
              <title>{String(count)}</title>
            </rect>
          );
        })}
        <text x="0" y={height + 14} class="tick">
          −24h
        </text>
        <text x={width} y={height + 14} class="tick" text-anchor="end">
          0
        </text>
        <text x="0" y="10" class="tick">
          {String(max)}
        </text>
      </svg>
      <figcaption>
        {t('trend')} · {t('eventsPerHour')} ·{' '}
        {props.capped ? `${t('newest')} ${props.times.length}` : props.times.length}
      </figcaption>
    </figure>
  );
}
