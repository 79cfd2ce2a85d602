import { DEFAULT_CODE_TABLE } from '@tillwatch/contracts';
import { Weighted } from './rng';

// Baseline outcome probabilities per auth. Approvals ~95.5%; cardholder declines ~3.6%.
export const P_CARDHOLDER = 0.036;
export const P_ISSUER = 0.0035;
export const P_TERMINAL = 0.0012;
export const P_SECURITY = 0.0012;
export const P_TIMEOUT = 0.002;
export const P_OTHER = 0.0002;

export const APPROVED = new Weighted([
  ['00', 970],
  ['10', 5],
  ['11', 5],
  ['Y1', 8],
  ['Y3', 6],
  ['08', 3],
  ['85', 2],
  ['16', 1],
] as const);
export const CARDHOLDER = new Weighted([
  ['51', 40],
  ['55', 20],
  ['61', 10],
  ['54', 9],
  ['57', 7],
  ['14', 6],
  ['65', 5],
  ['75', 3],
] as const);
// Keyed cards go wrong differently: mistyped numbers (14) and PINs (55).
export const CARDHOLDER_MANUAL = new Weighted([
  ['14', 25],
  ['55', 25],
  ['51', 25],
  ['54', 10],
  ['61', 5],
  ['57', 5],
  ['65', 3],
  ['75', 2],
] as const);
export const ISSUER = new Weighted([
  ['05', 45],
  ['91', 15],
  ['96', 12],
  ['06', 8],
  ['92', 8],
  ['68', 6],
  ['90', 6],
] as const);
export const TERMINAL = new Weighted([
  ['12', 25],
  ['58', 20],
  ['94', 15],
  ['03', 10],
  ['13', 15],
  ['30', 15],
] as const);
export const SECURITY = new Weighted([
  ['59', 30],
  ['41', 15],
  ['43', 15],
  ['62', 15],
  ['04', 10],
  ['63', 10],
  ['07', 5],
] as const);
export const OTHER = new Weighted([
  ['N7', 40],
  ['1A', 30],
  ['P5', 20],
  ['Q1', 10],
] as const);
export const ENTRY = new Weighted([
  ['contactless', 42],
  ['chip', 28],
  ['qr', 18],
  ['swipe', 8],
] as const);
export const NETWORK_TIMEOUT = { ethernet: 0.7, wifi: 1.1, cellular: 1.6 } as const;

export function isApproved(code: string): boolean {
  return DEFAULT_CODE_TABLE.get(code) === 'approved';
}
