// Field numbering of the fast decoder: a field is a bit in a 32-bit mask of the fields seen.
export const F_TYPE = 0;
export const F_EVENT_ID = 1;
export const F_TS = 2;
export const F_TERMINAL = 3;
export const F_MERCHANT = 4;
export const F_REGION = 5;
export const F_TXN = 6;
export const F_AMOUNT = 7;
export const F_CURRENCY = 8;
export const F_CODE = 9;
export const F_LATENCY = 10;
export const F_ENTRY = 11;
export const F_CARD = 12;
export const F_ISSUER = 13;
export const F_FIRMWARE = 14;
export const F_REASON = 15;
export const F_STATUS = 16;
export const F_BATCH = 17;
export const F_NETWORK = 18;
export const F_SIGNAL = 19;
export const FIELD_NAMES = [
  'type',
  'eventId',
  'ts',
  'terminalId',
  'merchantId',
  'region',
  'txnId',
  'amount',
  'currency',
  'responseCode',
  'latencyMs',
  'entryMode',
  'cardFingerprint',
  'issuerId',
  'firmware',
  'reason',
  'status',
  'batchId',
  'network',
  'signal',
] as const;
export const FIELD_COUNT = FIELD_NAMES.length;

/** Fields whose string values are literals the schema names (type and enums). */
export const ENUMS = mask([F_TYPE, F_ENTRY, F_REASON, F_STATUS, F_NETWORK]);

/** Fields each type's schema declares; the others are passed through like unknown keys. */
export const OWN = {
  auth: mask([
    F_TYPE,
    F_EVENT_ID,
    F_TS,
    F_TERMINAL,
    F_MERCHANT,
    F_REGION,
    F_TXN,
    F_AMOUNT,
    F_CURRENCY,
    F_CODE,
    F_LATENCY,
    F_ENTRY,
    F_CARD,
    F_ISSUER,
    F_FIRMWARE,
  ]),
  reversal: mask([
    F_TYPE,
    F_EVENT_ID,
    F_TS,
    F_TERMINAL,
    F_MERCHANT,
    F_REGION,
    F_TXN,
    F_REASON,
    F_STATUS,
  ]),
  settlement: mask([
    F_TYPE,
    F_EVENT_ID,
    F_TS,
    F_TERMINAL,
    F_MERCHANT,
    F_REGION,
    F_TXN,
    F_AMOUNT,
    F_STATUS,
    F_BATCH,
  ]),
  heartbeat: mask([
    F_TYPE,
    F_EVENT_ID,
    F_TS,
    F_TERMINAL,
    F_MERCHANT,
    F_REGION,
    F_FIRMWARE,
    F_NETWORK,
    F_SIGNAL,
  ]),
};

/** Fields each type's schema requires: build reads a field's value only where its bit is in
 * the event's mask of fields seen (values of earlier events stay in the scratch array). */
const COMMON = mask([F_TYPE, F_EVENT_ID, F_TS, F_TERMINAL, F_MERCHANT, F_REGION]);
export const REQUIRED = {
  auth: COMMON | mask([F_TXN, F_AMOUNT, F_CURRENCY, F_CODE]),
  reversal: COMMON | mask([F_TXN, F_REASON, F_STATUS]),
  settlement: COMMON | mask([F_TXN, F_AMOUNT, F_STATUS]),
  heartbeat: COMMON,
};

/** Id fields every type declares (1..32 of [A-Za-z0-9_.:-]): their values are checked
 * against the alphabet while they are scanned, and a string of another char is a miss. */
export const IDS = mask([F_TERMINAL, F_MERCHANT, F_REGION]);

function mask(fields: number[]): number {
  return fields.reduce((m, f) => m | (1 << f), 0);
}

/**
 * Field of the key whose first byte is at `b[s]` (just after its opening quote), if that key
 * is exactly a field name followed by its closing quote; else -1 (an unknown key, left to the
 * scanner). Dispatches on the first byte, then compares the rest of each candidate name with
 * constants, byte by byte: no key string is built, no name table is loaded, no loop (about
 * twice as fast as a loop over the name's bytes). Past the end, b[i] is undefined and matches
 * nothing. fast-decode.test.ts checks every name, and every one-byte change of it, against
 * fieldOf.
 */
export function fieldAtBytes(b: Uint8Array, s: number): number {
  switch (b[s]) {
    case 97 /* a */:
      // amount"
      return b[s + 1] === 109 &&
        b[s + 2] === 111 &&
        b[s + 3] === 117 &&
        b[s + 4] === 110 &&
        b[s + 5] === 116 &&
        b[s + 6] === 34
        ? F_AMOUNT
        : -1;
    case 98 /* b */:
      // batchId"
      return b[s + 1] === 97 &&
        b[s + 2] === 116 &&
        b[s + 3] === 99 &&
        b[s + 4] === 104 &&
        b[s + 5] === 73 &&
        b[s + 6] === 100 &&
        b[s + 7] === 34
        ? F_BATCH
        : -1;
    case 99 /* c */:
      // currency"
      if (
        b[s + 1] === 117 &&
        b[s + 2] === 114 &&
        b[s + 3] === 114 &&
        b[s + 4] === 101 &&
        b[s + 5] === 110 &&
        b[s + 6] === 99 &&
        b[s + 7] === 121 &&
        b[s + 8] === 34
      )
        return F_CURRENCY;
      // cardFingerprint"
      return b[s + 1] === 97 &&
        b[s + 2] === 114 &&
        b[s + 3] === 100 &&
        b[s + 4] === 70 &&
        b[s + 5] === 105 &&
        b[s + 6] === 110 &&
        b[s + 7] === 103 &&
        b[s + 8] === 101 &&
        b[s + 9] === 114 &&
        b[s + 10] === 112 &&
        b[s + 11] === 114 &&
        b[s + 12] === 105 &&
        b[s + 13] === 110 &&
        b[s + 14] === 116 &&
        b[s + 15] === 34
        ? F_CARD
        : -1;
    case 101 /* e */:
      // eventId"
      if (
        b[s + 1] === 118 &&
        b[s + 2] === 101 &&
        b[s + 3] === 110 &&
        b[s + 4] === 116 &&
        b[s + 5] === 73 &&
        b[s + 6] === 100 &&
        b[s + 7] === 34
      )
        return F_EVENT_ID;
      // entryMode"
      return b[s + 1] === 110 &&
        b[s + 2] === 116 &&
        b[s + 3] === 114 &&
        b[s + 4] === 121 &&
        b[s + 5] === 77 &&
        b[s + 6] === 111 &&
        b[s + 7] === 100 &&
        b[s + 8] === 101 &&
        b[s + 9] === 34
        ? F_ENTRY
        : -1;
    case 102 /* f */:
      // firmware"
      return b[s + 1] === 105 &&
        b[s + 2] === 114 &&
        b[s + 3] === 109 &&
        b[s + 4] === 119 &&
        b[s + 5] === 97 &&
        b[s + 6] === 114 &&
        b[s + 7] === 101 &&
        b[s + 8] === 34
        ? F_FIRMWARE
        : -1;
    case 105 /* i */:
      // issuerId"
      return b[s + 1] === 115 &&
        b[s + 2] === 115 &&
        b[s + 3] === 117 &&
        b[s + 4] === 101 &&
        b[s + 5] === 114 &&
        b[s + 6] === 73 &&
        b[s + 7] === 100 &&
        b[s + 8] === 34
        ? F_ISSUER
        : -1;
    case 108 /* l */:
      // latencyMs"
      return b[s + 1] === 97 &&
        b[s + 2] === 116 &&
        b[s + 3] === 101 &&
        b[s + 4] === 110 &&
        b[s + 5] === 99 &&
        b[s + 6] === 121 &&
        b[s + 7] === 77 &&
        b[s + 8] === 115 &&
        b[s + 9] === 34
        ? F_LATENCY
        : -1;
    case 109 /* m */:
      // merchantId"
      return b[s + 1] === 101 &&
        b[s + 2] === 114 &&
        b[s + 3] === 99 &&
        b[s + 4] === 104 &&
        b[s + 5] === 97 &&
        b[s + 6] === 110 &&
        b[s + 7] === 116 &&
        b[s + 8] === 73 &&
        b[s + 9] === 100 &&
        b[s + 10] === 34
        ? F_MERCHANT
        : -1;
    case 110 /* n */:
      // network"
      return b[s + 1] === 101 &&
        b[s + 2] === 116 &&
        b[s + 3] === 119 &&
        b[s + 4] === 111 &&
        b[s + 5] === 114 &&
        b[s + 6] === 107 &&
        b[s + 7] === 34
        ? F_NETWORK
        : -1;
    case 114 /* r */:
      // region"
      if (
        b[s + 1] === 101 &&
        b[s + 2] === 103 &&
        b[s + 3] === 105 &&
        b[s + 4] === 111 &&
        b[s + 5] === 110 &&
        b[s + 6] === 34
      )
        return F_REGION;
      // responseCode"
      if (
        b[s + 1] === 101 &&
        b[s + 2] === 115 &&
        b[s + 3] === 112 &&
        b[s + 4] === 111 &&
        b[s + 5] === 110 &&
        b[s + 6] === 115 &&
        b[s + 7] === 101 &&
        b[s + 8] === 67 &&
        b[s + 9] === 111 &&
        b[s + 10] === 100 &&
        b[s + 11] === 101 &&
        b[s + 12] === 34
      )
        return F_CODE;
      // reason"
      return b[s + 1] === 101 &&
        b[s + 2] === 97 &&
        b[s + 3] === 115 &&
        b[s + 4] === 111 &&
        b[s + 5] === 110 &&
        b[s + 6] === 34
        ? F_REASON
        : -1;
    case 115 /* s */:
      // status"
      if (
        b[s + 1] === 116 &&
        b[s + 2] === 97 &&
        b[s + 3] === 116 &&
        b[s + 4] === 117 &&
        b[s + 5] === 115 &&
        b[s + 6] === 34
      )
        return F_STATUS;
      // signal"
      return b[s + 1] === 105 &&
        b[s + 2] === 103 &&
        b[s + 3] === 110 &&
        b[s + 4] === 97 &&
        b[s + 5] === 108 &&
        b[s + 6] === 34
        ? F_SIGNAL
        : -1;
    case 116 /* t */:
      // type"
      if (b[s + 1] === 121 && b[s + 2] === 112 && b[s + 3] === 101 && b[s + 4] === 34)
        return F_TYPE;
      // ts"
      if (b[s + 1] === 115 && b[s + 2] === 34) return F_TS;
      // terminalId"
      if (
        b[s + 1] === 101 &&
        b[s + 2] === 114 &&
        b[s + 3] === 109 &&
        b[s + 4] === 105 &&
        b[s + 5] === 110 &&
        b[s + 6] === 97 &&
        b[s + 7] === 108 &&
        b[s + 8] === 73 &&
        b[s + 9] === 100 &&
        b[s + 10] === 34
      )
        return F_TERMINAL;
      // txnId"
      return b[s + 1] === 120 &&
        b[s + 2] === 110 &&
        b[s + 3] === 73 &&
        b[s + 4] === 100 &&
        b[s + 5] === 34
        ? F_TXN
        : -1;
    default:
      return -1;
  }
}

export function fieldOf(key: string): number {
  switch (key) {
    case 'type':
      return F_TYPE;
    case 'eventId':
      return F_EVENT_ID;
    case 'ts':
      return F_TS;
    case 'terminalId':
      return F_TERMINAL;
    case 'merchantId':
      return F_MERCHANT;
    case 'region':
      return F_REGION;
    case 'txnId':
      return F_TXN;
    case 'amount':
      return F_AMOUNT;
    case 'currency':
      return F_CURRENCY;
    case 'responseCode':
      return F_CODE;
    case 'latencyMs':
      return F_LATENCY;
    case 'entryMode':
      return F_ENTRY;
    case 'cardFingerprint':
      return F_CARD;
    case 'issuerId':
      return F_ISSUER;
    case 'firmware':
      return F_FIRMWARE;
    case 'reason':
      return F_REASON;
    case 'status':
      return F_STATUS;
    case 'batchId':
      return F_BATCH;
    case 'network':
      return F_NETWORK;
    case 'signal':
      return F_SIGNAL;
    default:
      return -1;
  }
}
