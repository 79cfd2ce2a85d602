/**
 * SVG path data of a sparkline: values left to right across `width`, 0 at the bottom and
 * `max` (default: the largest value) at the top, 1 px kept free at both edges.
 */
export function sparkPath(
  values: readonly number[],
  width: number,
  height: number,
  max?: number,
): string {
  if (values.length === 0) return '';
  const top = max ?? Math.max(...values);
  const scale = top > 0 ? (height - 2) / top : 0;
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const x = Math.round(i * step * 10) / 10;
      const y = Math.round((height - 1 - Math.max(0, v) * scale) * 10) / 10;
      return `${i ? 'L' : 'M'}${x},${y}`;
    })
    .join('');
}
