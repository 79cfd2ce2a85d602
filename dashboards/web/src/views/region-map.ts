import {
  centreOf,
  fitProjection,
  pathOf,
  provinceOf,
  trafficLevel,
  worstLevel,
  type TrafficLevel,
} from '../china-map';
import { h, setText, svg } from '../dom';
import { hourSpan, int, ratio } from '../format';
import { provinceName, t, tf } from '../i18n';
import { chinaProvinces } from '../map-data';
import type { RegionTraffic, RegionTrafficReport } from '../types';

export interface MapRegion {
  key: string;
  traffic?: RegionTraffic;
  outage: boolean;
}

const WIDTH = 560;

/** The lines a region's tooltip (and its tile's title) shows. */
export function trafficLines(
  report: RegionTrafficReport | undefined,
  x: RegionTraffic | undefined,
): string[] {
  if (!report || !x) return [t('noNormalYet')];
  return [
    tf('lastHourAuths', { range: hourSpan(report.from, report.to, x.timeZone), n: int(x.auths) }),
    x.normal === null
      ? tf('normalNone', { d: report.days })
      : tf('normalForHour', { n: int(x.normal), d: x.normalDays }),
    x.ratio === null ? t('noNormalYet') : tf('ofNormalHour', { x: ratio(x.ratio) }),
  ];
}

/**
 * China's provinces as an SVG map: each province with a region is coloured by its traffic
 * against its normal for this hour (red when a regional_outage alert fires for it), one marker
 * per region (a province with several, as Guangdong with CN-44-SZ and CN-44-GZ, shows each),
 * a tooltip with the figures, and a click opening the region's page.
 */
export function regionMap(open: (region: string) => void): {
  el: HTMLElement;
  update(regions: readonly MapRegion[], report: RegionTrafficReport | undefined): void;
} {
  const all = chinaProvinces();
  const proj = fitProjection(all, WIDTH);
  const tip = h('div', { class: 'map-tip', 'data-testid': 'map-tooltip', hidden: true });
  const markers = svg('g', { class: 'map-markers' });
  const byCode = new Map<string, SVGPathElement>();
  const centres = new Map<string, [number, number]>();
  let regionsOf = new Map<string, MapRegion[]>();
  let lastReport: RegionTrafficReport | undefined;

  const showTip = (e: MouseEvent, lines: string[]) => {
    tip.replaceChildren(...lines.map((l, i) => h(i ? 'div' : 'strong', {}, l)));
    tip.hidden = false;
    const box = el.getBoundingClientRect();
    tip.style.left = `${Math.min(e.clientX - box.left + 14, box.width - 260)}px`;
    tip.style.top = `${e.clientY - box.top + 14}px`;
  };
  const hideTip = () => (tip.hidden = true);
  const regionTip = (r: MapRegion, provinceLabel: string): string[] => [
    `${r.key} · ${provinceLabel}`,
    ...(r.outage ? [`⚠ ${t('outageBanner')}`] : []),
    ...trafficLines(lastReport, r.traffic),
  ];

  const shapes = svg('g', { class: 'map-provinces' });
  for (const p of all) {
    const d = pathOf(p, proj);
    if (!d) continue;
    const path = svg('path', {
      d,
      class: 'prov',
      'data-province': p.code,
      'data-level': 'none',
      onmousemove: (e: Event) => {
        const rs = regionsOf.get(p.code);
        const label = provinceName(p.code, p.name);
        showTip(e as MouseEvent, rs ? rs.flatMap((r) => regionTip(r, label)) : [label]);
      },
      onmouseleave: hideTip,
      onclick: () => {
        const rs = regionsOf.get(p.code);
        if (!rs?.length) return;
        // several regions: the one furthest from its normal (each has its own marker too)
        const worst = rs.reduce((a, b) => (rank(b) > rank(a) ? b : a));
        open(worst.key);
      },
    });
    byCode.set(p.code, path);
    centres.set(p.code, centreOf(p, proj));
    shapes.append(path);
  }

  const legend = h(
    'div',
    { class: 'map-legend', 'data-testid': 'map-legend' },
    ...(
      [
        ['none', t('mapLegendNone')],
        ['low2', '< 50%'],
        ['low', '50–80%'],
        ['ok', '80–125%'],
        ['high', '125–200%'],
        ['high2', '> 200%'],
        ['outage', t('mapLegendOutage')],
      ] as [TrafficLevel, string][]
    ).map(([lvl, label]) => h('span', { class: 'lg' }, h('i', { 'data-level': lvl }), label)),
  );
  const caption = h('div', { class: 'map-caption dim small', 'data-testid': 'map-caption' });

  const el = h(
    'div',
    { class: 'region-map', 'data-testid': 'region-map' },
    h('h2', {}, t('mapTitle')),
    caption,
    svg(
      'svg',
      {
        viewBox: `0 0 ${proj.width} ${proj.height}`,
        role: 'img',
        'aria-label': t('mapTitle'),
        class: 'map-svg',
      },
      shapes,
      markers,
    ),
    legend,
    tip,
  );

  function update(regions: readonly MapRegion[], report: RegionTrafficReport | undefined): void {
    lastReport = report;
    regionsOf = new Map();
    for (const r of regions) {
      const code = provinceOf(r.key);
      if (!code || !byCode.has(code)) continue;
      const list = regionsOf.get(code) ?? [];
      list.push(r);
      regionsOf.set(code, list);
    }
    for (const [code, path] of byCode) {
      const rs = regionsOf.get(code);
      path.dataset['level'] = rs ? worstLevel(rs.map(levelOf)) : 'none';
      path.classList.toggle('has-region', !!rs);
      if (rs) path.dataset['regions'] = rs.map((r) => r.key).join(' ');
      else delete path.dataset['regions'];
    }
    const dots: SVGElement[] = [];
    for (const [code, rs] of regionsOf) {
      const [cx, cy] = centres.get(code)!;
      rs.forEach((r, i) => {
        const x = cx + (i - (rs.length - 1) / 2) * 22;
        const label = provinceName(code, all.find((p) => p.code === code)?.name ?? code);
        dots.push(
          svg(
            'g',
            {
              class: 'marker',
              'data-map-region': r.key,
              'data-testid': 'map-region',
              'data-level': levelOf(r),
              transform: `translate(${x},${cy})`,
              onmousemove: (e: Event) => showTip(e as MouseEvent, regionTip(r, label)),
              onmouseleave: hideTip,
              onclick: (e: Event) => {
                e.stopPropagation();
                open(r.key);
              },
            },
            svg('circle', { r: 5 }),
            rs.length > 1 ? svg('text', { y: -8 }, r.key.split('-').at(-1)!) : null,
          ),
        );
      });
    }
    markers.replaceChildren(...dots);
    setText(
      caption,
      report
        ? tf('lastHourAuths', {
            range: hourSpan(
              report.from,
              report.to,
              regions.find((r) => r.traffic)?.traffic?.timeZone ?? 'Asia/Shanghai',
            ),
            n: int(regions.reduce((a, r) => a + (r.traffic?.auths ?? 0), 0)),
          })
        : '',
    );
  }

  return { el, update };
}

function levelOf(r: MapRegion): TrafficLevel {
  return trafficLevel(r.traffic?.ratio, r.outage);
}
function rank(r: MapRegion): number {
  return ['none', 'ok', 'high', 'high2', 'low', 'low2', 'outage'].indexOf(levelOf(r));
}
