import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { dayHhmm, hhmm } from './chart-spec';
import { t } from './i18n';

/**
 * A rate over time in `box` (percent axis, 24-hour times in `zone`), with flat lines for a
 * threshold and a baseline when given (the legend then names the three). Replaces `old`.
 */
export function plotRate(
  box: HTMLElement,
  old: uPlot | undefined,
  o: {
    xs: number[];
    /** fractions (0.05 = 5 %) */
    ys: number[];
    name: string;
    zone: string;
    /** flat lines, or one value per x (a baseline that moves) */
    threshold?: number | number[];
    baseline?: number | number[];
    /** the baseline's name in the legend (default: 'Baseline') */
    baselineName?: string;
    /** label days too (a range longer than a day) */
    days?: boolean;
    /** a drag across the chart picks [from, to] (epoch ms) instead of zooming in place */
    onZoom?: (from: number, to: number) => void;
  },
): uPlot {
  const data: number[][] = [o.xs, o.ys.map((y) => y * 100)];
  const series: uPlot.Series[] = [
    {},
    { label: o.name, stroke: '#f97066', fill: 'rgba(249,112,102,0.15)', width: 2 },
  ];
  const lines = o.threshold !== undefined && o.baseline !== undefined;
  if (lines) {
    data.push(perX(o.xs, o.threshold!), perX(o.xs, o.baseline!));
    series.push(
      { label: t('threshold'), stroke: '#f5b83d', width: 1, dash: [6, 4] },
      { label: o.baselineName ?? t('baseline'), stroke: '#5fb3ff', width: 1, dash: [2, 4] },
    );
  }
  old?.destroy();
  box.replaceChildren();
  // the theme's colours (style.css): a canvas does not follow CSS variables by itself
  const css = getComputedStyle(document.documentElement);
  const axis = css.getPropertyValue('--dim').trim() || '#8b98a9';
  const grid = css.getPropertyValue('--grid').trim() || '#1e2a3a';
  return new uPlot(
    {
      width: Math.max(320, box.clientWidth || 600),
      height: 180,
      legend: { show: lines },
      ...(o.onZoom
        ? {
            cursor: { drag: { x: true, y: false, setScale: false } },
            hooks: {
              setSelect: [
                (u: uPlot) => {
                  if (u.select.width < 4) return;
                  const a = u.posToVal(u.select.left, 'x');
                  const b = u.posToVal(u.select.left + u.select.width, 'x');
                  u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
                  o.onZoom!(a * 1000, b * 1000);
                },
              ],
            },
          }
        : {}),
      scales: { y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil(max * 1.2))] } },
      axes: [
        {
          stroke: axis,
          grid: { stroke: grid },
          values: (_u, v) => v.map((x) => (o.days ? dayHhmm(x, o.zone) : hhmm(x, o.zone))),
        },
        {
          stroke: axis,
          grid: { stroke: grid },
          values: (_u, v) => v.map((x) => `${x}%`),
        },
      ],
      series,
    },
    data as uPlot.AlignedData,
    box,
  );
}

/** a line's values in percent, one per x */
function perX(xs: number[], v: number | number[]): number[] {
  return typeof v === 'number' ? xs.map(() => v * 100) : v.map((y) => y * 100);
}
