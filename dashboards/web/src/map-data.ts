// The province shapes, bundled at build time (see china-map.ts for the source and licence).
import china from 'echarts/map/json/china.json';
import { provinces, type EncodedGeo, type Province } from './china-map';

let cached: Province[] | undefined;

/** China's provinces, decoded once. */
export function chinaProvinces(): Province[] {
  return (cached ??= provinces(china as unknown as EncodedGeo));
}
