import { describe, expect, it } from 'vitest';
import {
  centreOf,
  decodeRing,
  fitProjection,
  pathOf,
  provinceOf,
  provinces,
  trafficLevel,
  worstLevel,
} from './china-map';
import { chinaProvinces } from './map-data';

describe('province shapes', () => {
  it('decodes ECharts’ zigzag delta encoding', () => {
    // from (1024, 2048) (= 1°, 2° at scale 1024): +1,-1 then +2,+0
    const enc = String.fromCharCode(64 + 2, 64 + 1, 64 + 4, 64 + 0);
    expect(decodeRing(enc, [1024, 2048])).toEqual([
      [1025 / 1024, 2047 / 1024],
      [1027 / 1024, 2047 / 1024],
    ]);
  });

  it('the shipped data: 34 provinces keyed as the regions are, inside China’s box', () => {
    const all = chinaProvinces();
    expect(all).toHaveLength(34);
    const codes = all.map((p) => p.code);
    for (const c of ['CN-11', 'CN-31', 'CN-44', 'CN-51', 'CN-61', 'CN-65', 'CN-81']) {
      expect(codes).toContain(c);
    }
    expect(all.find((p) => p.code === 'CN-31')!.name).toBe('上海');
    for (const p of all)
      for (const r of p.rings)
        for (const [lon, lat] of r) {
          expect(lon).toBeGreaterThan(73);
          expect(lon).toBeLessThan(136);
          expect(lat).toBeGreaterThan(3);
          expect(lat).toBeLessThan(54);
        }
  });

  it('plain GeoJSON rings pass through', () => {
    const [p] = provinces({
      features: [
        {
          id: '310000',
          properties: { name: '上海' },
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [121, 31],
                [122, 31],
                [122, 32],
              ],
            ],
          },
        },
      ],
    });
    expect(p).toEqual({
      code: 'CN-31',
      name: '上海',
      rings: [
        [
          [121, 31],
          [122, 31],
          [122, 32],
        ],
      ],
    });
  });
});

describe('projection', () => {
  const all = chinaProvinces();
  const proj = fitProjection(all, 560);

  it('fits the map to the width, north up, west left, proportions kept', () => {
    expect(proj.width).toBe(560);
    // China is wider than tall on such a map, but not twice as wide
    expect(proj.height).toBeGreaterThan(300);
    expect(proj.height).toBeLessThan(560);
    const [xUrumqi, yUrumqi] = proj([87.6, 43.8]);
    const [xShanghai, yShanghai] = proj([121.5, 31.2]);
    const [, yHarbin] = proj([126.6, 45.8]);
    expect(xUrumqi).toBeLessThan(xShanghai);
    expect(yHarbin).toBeLessThan(yShanghai);
    expect(yUrumqi).toBeLessThan(yShanghai);
    for (const p of all)
      for (const r of p.rings)
        for (const ll of r) {
          const [x, y] = proj(ll);
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(560);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(y).toBeLessThanOrEqual(proj.height);
        }
  });

  it('a province is a closed SVG path, its centre inside its box', () => {
    const gd = all.find((p) => p.code === 'CN-44')!;
    const d = pathOf(gd, proj);
    expect(d).toMatch(/^M[\d.]+,[\d.]+L.*Z$/);
    const [cx, cy] = centreOf(gd, proj);
    const [x0, y0] = proj([109.6, 25.6]);
    const [x1, y1] = proj([117.4, 20.2]);
    expect(cx).toBeGreaterThan(x0);
    expect(cx).toBeLessThan(x1);
    expect(cy).toBeGreaterThan(y0);
    expect(cy).toBeLessThan(y1);
  });
});

describe('regions on the map', () => {
  it('a city-suffixed region sits in its province', () => {
    expect(provinceOf('CN-44-SZ')).toBe('CN-44');
    expect(provinceOf('CN-31')).toBe('CN-31');
    expect(provinceOf('US-CA')).toBeUndefined();
    expect(provinceOf('CN-4')).toBeUndefined();
  });

  it('colour by traffic against the normal; red for an outage whatever the traffic', () => {
    expect(trafficLevel(null)).toBe('none');
    expect(trafficLevel(undefined)).toBe('none');
    expect(trafficLevel(0.3)).toBe('low2');
    expect(trafficLevel(0.7)).toBe('low');
    expect(trafficLevel(1)).toBe('ok');
    expect(trafficLevel(1.25)).toBe('ok');
    expect(trafficLevel(1.6)).toBe('high');
    expect(trafficLevel(2.5)).toBe('high2');
    expect(trafficLevel(1, true)).toBe('outage');
    expect(trafficLevel(null, true)).toBe('outage');
  });

  it('a province with several regions takes the worst: low traffic over high, outage over all', () => {
    expect(worstLevel(['ok', 'high'])).toBe('high');
    expect(worstLevel(['high2', 'low'])).toBe('low');
    expect(worstLevel(['low2', 'outage', 'ok'])).toBe('outage');
    expect(worstLevel(['none', 'ok'])).toBe('ok');
    expect(worstLevel([])).toBe('none');
  });
});
