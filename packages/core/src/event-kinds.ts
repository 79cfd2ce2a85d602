import * as L from './engine-layout';
import { CAT, type EngineConfig, type EngineEvent } from './types';

// Module-local copies of the layout constants and shared enums (why: engine-layout.ts).
const K_AUTH = L.K_AUTH;
const K_REV = L.K_REV;
const CAT_OTHER = CAT.other;

/**
 * The record kind of an event under the config's code tables. Two-character ASCII response
 * codes (all the standard ones) are looked up in 16 K-entry arrays indexed by c0 * 128 + c1:
 * two loads per auth where the Map and Set would hash the string; other codes fall back to
 * them.
 */
export class EventKinds {
  private readonly codes: ReadonlyMap<string, number>;
  /** 2-char ASCII response codes: c0 * 128 + c1 -> category; other codes go to the Map */
  private readonly codeCat: Int8Array;
  private readonly codeInput: Uint8Array;
  private readonly inputSet: Set<string>;
  private readonly smallAmount: number;

  constructor(c: EngineConfig) {
    this.codes = c.codeCategories;
    this.smallAmount = c.smallAmount;
    this.codeCat = new Int8Array(128 * 128).fill(CAT.other);
    this.codeInput = new Uint8Array(128 * 128);
    for (const [code, cat] of c.codeCategories) {
      if (isAscii2(code)) this.codeCat[code.charCodeAt(0) * 128 + code.charCodeAt(1)] = cat;
    }
    this.inputSet = new Set(c.inputErrorCodes);
    for (const code of c.inputErrorCodes) {
      if (isAscii2(code)) this.codeInput[code.charCodeAt(0) * 128 + code.charCodeAt(1)] = 1;
    }
  }

  /** K_AUTH + category * 4 + inputError * 2 + small: the category is (kind - K_AUTH) >> 2. */
  auth(ev: EngineEvent): number {
    const code = ev.responseCode ?? '';
    let cat: number;
    let input: number;
    if (code.length === 2 && code.charCodeAt(0) < 128 && code.charCodeAt(1) < 128) {
      const ci = code.charCodeAt(0) * 128 + code.charCodeAt(1);
      cat = this.codeCat[ci]!;
      input = this.codeInput[ci]!;
    } else {
      cat = this.codes.get(code) ?? CAT_OTHER;
      input = this.inputSet.has(code) ? 1 : 0;
    }
    const small = (ev.amount ?? 0) <= this.smallAmount ? 1 : 0;
    return K_AUTH + cat * 4 + input * 2 + small;
  }
}

/** K_REV + reason * 2 + failed. */
export function reversalKind(ev: EngineEvent): number {
  return K_REV + reasonIndex(ev.reason) * 2 + (ev.status === 'failed' ? 1 : 0);
}

function isAscii2(code: string): boolean {
  return code.length === 2 && code.charCodeAt(0) < 128 && code.charCodeAt(1) < 128;
}

function reasonIndex(reason: string | undefined): number {
  switch (reason) {
    case 'timeout':
      return 0;
    case 'customer_cancel':
      return 1;
    case 'terminal_error':
      return 2;
    case 'host_error':
      return 3;
    default:
      return 4;
  }
}
