/**
 * The region map's pure parts: province shapes, projection, which province a region sits in,
 * and the colour of its traffic against its normal.
 *
 * Shapes: Apache ECharts 4.9.0's `map/json/china.json` (npm `echarts`, Apache-2.0, © The
 * Apache Software Foundation; a devDependency of this package). Vite bundles that one JSON
 * file at build time (map-data.ts); nothing of ECharts' code, and nothing fetched at run time.
 * Its polygons are stored in ECharts' compact encoding (UTF8Encoding): decoded here.
 */

export type LonLat = [number, number];

/** ECharts' encoded GeoJSON as shipped: one feature per province, id = 6-digit GB/T 2260 code. */
export interface EncodedGeo {
  UTF8Encoding?: boolean;
  UTF8Scale?: number;
  features: {
    id?: string;
    properties: { id?: string; name: string };
    geometry: {
      type: string;
      coordinates: unknown[];
      encodeOffsets?: unknown[];
    };
  }[];
}

export interface Province {
  /** ISO 3166-2:CN numeric code, as the regions are keyed: CN-31 */
  code: string;
  /** name as the data has it (Chinese) */
  name: string;
  /** outer rings (holes are left out: none matter at this scale) */
  rings: LonLat[][];
}

/** ECharts' decodePolygon: zigzag-coded deltas, two chars a point, from an offset. */
export function decodeRing(s: string, offset: readonly number[], scale = 1024): LonLat[] {
  const out: LonLat[] = [];
  let px = offset[0] ?? 0;
  let py = offset[1] ?? 0;
  for (let i = 0; i + 1 < s.length; i += 2) {
    let x = s.charCodeAt(i) - 64;
    let y = s.charCodeAt(i + 1) - 64;
    x = (x >> 1) ^ -(x & 1);
    y = (y >> 1) ^ -(y & 1);
    px += x;
    py += y;
    out.push([px / scale, py / scale]);
  }
  return out;
}

/** The provinces of an (encoded or plain) GeoJSON of China's provinces. */
export function provinces(geo: EncodedGeo): Province[] {
  const scale = geo.UTF8Scale ?? 1024;
  const ring = (r: unknown, off: unknown): LonLat[] =>
    typeof r === 'string' ? decodeRing(r, off as number[], scale) : (r as LonLat[]);
  return geo.features.map((f) => {
    const g = f.geometry;
    const enc = (g.encodeOffsets ?? []) as unknown[];
    const rings: LonLat[][] = [];
    if (g.type === 'Polygon') {
      rings.push(ring(g.coordinates[0], enc[0]));
    } else if (g.type === 'MultiPolygon') {
      g.coordinates.forEach((poly, i) => {
        rings.push(ring((poly as unknown[])[0], (enc[i] as unknown[] | undefined)?.[0]));
      });
    }
    const id = String(f.id ?? f.properties.id ?? '');
    return { code: `CN-${id.slice(0, 2)}`, name: f.properties.name, rings };
  });
}

/**
 * A simple projection: equirectangular with longitude shrunk by cos(35°), China's middle
 * latitude, so shapes keep their proportions; then fitted to the box. No map library needed.
 */
export interface Projection {
  (p: LonLat): [number, number];
  width: number;
  height: number;
}
const K = Math.cos((35 * Math.PI) / 180);

export function fitProjection(all: readonly Province[], width: number, pad = 4): Projection {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const p of all)
    for (const r of p.rings)
      for (const [lon, lat] of r) {
        x0 = Math.min(x0, lon * K);
        x1 = Math.max(x1, lon * K);
        y0 = Math.min(y0, -lat);
        y1 = Math.max(y1, -lat);
      }
  const s = (width - 2 * pad) / (x1 - x0);
  const height = Math.ceil((y1 - y0) * s + 2 * pad);
  const f = (([lon, lat]: LonLat) => [
    Math.round(((lon * K - x0) * s + pad) * 10) / 10,
    Math.round(((-lat - y0) * s + pad) * 10) / 10,
  ]) as Projection;
  f.width = width;
  f.height = height;
  return f;
}

/** SVG path data of a province; points closer than `minStep` px to the last kept are dropped. */
export function pathOf(p: Province, proj: Projection, minStep = 0.8): string {
  const parts: string[] = [];
  for (const r of p.rings) {
    const pts: [number, number][] = [];
    for (const ll of r) {
      const q = proj(ll);
      const last = pts[pts.length - 1];
      if (last && Math.abs(q[0] - last[0]) + Math.abs(q[1] - last[1]) < minStep) continue;
      pts.push(q);
    }
    if (pts.length < 3) continue;
    parts.push(`M${pts.map(([x, y]) => `${x},${y}`).join('L')}Z`);
  }
  return parts.join('');
}

/** Centre of the largest ring's box, where a label or marker goes. */
export function centreOf(p: Province, proj: Projection): [number, number] {
  let best: [number, number, number] = [0, 0, -1];
  for (const r of p.rings) {
    const pts = r.map(proj);
    const xs = pts.map((q) => q[0]);
    const ys = pts.map((q) => q[1]);
    const area = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
    if (area > best[2])
      best = [
        (Math.max(...xs) + Math.min(...xs)) / 2,
        (Math.max(...ys) + Math.min(...ys)) / 2,
        area,
      ];
  }
  return [Math.round(best[0]), Math.round(best[1])];
}

/** The province a region key sits in: CN-44-SZ (Shenzhen) → CN-44; CN-31 → CN-31. */
export function provinceOf(region: string): string | undefined {
  const m = /^(CN-\d{2})(?:-|$)/.exec(region);
  return m?.[1];
}

/**
 * Traffic against the normal for this hour, as a colour class:
 * none (no normal yet), low2 (< 50 %), low (< 80 %), ok (80–125 %), high (> 125 %),
 * high2 (> 200 %), outage (a regional_outage alert fires for it, whatever the traffic).
 */
export type TrafficLevel = 'none' | 'low2' | 'low' | 'ok' | 'high' | 'high2' | 'outage';

export function trafficLevel(ratio: number | null | undefined, outage = false): TrafficLevel {
  if (outage) return 'outage';
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return 'none';
  if (ratio < 0.5) return 'low2';
  if (ratio < 0.8) return 'low';
  if (ratio <= 1.25) return 'ok';
  if (ratio <= 2) return 'high';
  return 'high2';
}

/** How far a level is from normal, to pick a province's colour from several regions. */
const SEVERITY: Record<TrafficLevel, number> = {
  none: 0,
  ok: 1,
  high: 2,
  high2: 3,
  low: 4,
  low2: 5,
  outage: 6,
};

/** A province with several regions (CN-44-SZ, CN-44-GZ) takes the colour of the worst. */
export function worstLevel(levels: readonly TrafficLevel[]): TrafficLevel {
  let w: TrafficLevel = 'none';
  for (const l of levels) if (SEVERITY[l] > SEVERITY[w]) w = l;
  return w;
}
