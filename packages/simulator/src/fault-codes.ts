import { Rng, Weighted } from './rng';
import type { AuthDraft } from './types';

// Code mixes of each fault, as ISO 8583 field 39 values.
export const TERMINAL_FAULT = new Weighted([
  ['12', 30],
  ['58', 25],
  ['94', 15],
  ['03', 20],
] as const);
export const INPUT_ERRORS = new Weighted([
  ['55', 35],
  ['14', 30],
  ['13', 25],
  ['30', 10],
] as const);
export const OUTAGE = new Weighted([
  ['TO', 50],
  ['91', 30],
  ['96', 20],
] as const);
export const ISSUER_DOWN = new Weighted([
  ['91', 45],
  ['96', 30],
  ['TO', 25],
] as const);
export const FIRMWARE_BUG = new Weighted([
  ['12', 30],
  ['58', 20],
  ['94', 15],
  ['03', 10],
  ['TO', 25],
] as const);
export const CARD_TEST_DECLINES = new Weighted([
  ['14', 25],
  ['54', 20],
  ['51', 15],
  ['05', 15],
  ['57', 10],
  ['59', 8],
  ['41', 4],
  ['43', 3],
] as const);

/** Latency the terminal sees for a code an incident forces (ms, integers). */
export function faultLatency(code: string, rng: Rng): number {
  switch (code) {
    case 'TO':
      return 30_000 + rng.int(2_000);
    case '91':
      return 5_000 + rng.int(15_000);
    case '96':
      return Math.round(rng.lognormal(900, 0.5));
    case '12':
    case '13':
    case '30':
    case '03':
      return 40 + rng.int(260);
    default:
      return Math.round(rng.lognormal(400, 0.45));
  }
}

/** Force a fault code onto the draft, with the latency that code comes with. */
export function setCode(d: AuthDraft, code: string, rng: Rng): void {
  d.code = code;
  d.latency = faultLatency(code, rng);
}
