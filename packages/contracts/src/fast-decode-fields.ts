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

function mask(fields: number[]): number {
  return fields.reduce((m, f) => m | (1 << f), 0);
}

/** Field of the key at s[start, end) without slicing it out, or -1 (an unknown key). */
export function fieldAt(s: string, start: number, end: number): number {
  let f: number;
  switch (end - start) {
    case 2:
      f = F_TS;
      break;
    case 4:
      f = F_TYPE;
      break;
    case 5:
      f = F_TXN;
      break;
    case 6:
      f =
        s.charCodeAt(start) === 114 /* r */
          ? s.charCodeAt(start + 2) === 103
            ? F_REGION
            : F_REASON
          : s.charCodeAt(start) === 97 /* a */
            ? F_AMOUNT
            : s.charCodeAt(start) === 115 /* s */
              ? s.charCodeAt(start + 1) === 116
                ? F_STATUS
                : F_SIGNAL
              : -1;
      break;
    case 7:
      f =
        s.charCodeAt(start) === 101 /* e */
          ? F_EVENT_ID
          : s.charCodeAt(start) === 98 /* b */
            ? F_BATCH
            : F_NETWORK;
      break;
    case 8:
      f =
        s.charCodeAt(start) === 99 /* c */
          ? F_CURRENCY
          : s.charCodeAt(start) === 105 /* i */
            ? F_ISSUER
            : F_FIRMWARE;
      break;
    case 9:
      f = s.charCodeAt(start) === 108 /* l */ ? F_LATENCY : F_ENTRY;
      break;
    case 10:
      f = s.charCodeAt(start) === 116 /* t */ ? F_TERMINAL : F_MERCHANT;
      break;
    case 12:
      f = F_CODE;
      break;
    case 15:
      f = F_CARD;
      break;
    default:
      return -1;
  }
  if (f < 0) return -1;
  // a char loop: String.prototype.startsWith is a builtin call per key, several times slower
  const name = FIELD_NAMES[f]!;
  for (let k = 1; k < name.length; k++) {
    if (s.charCodeAt(start + k) !== name.charCodeAt(k)) return -1;
  }
  return s.charCodeAt(start) === name.charCodeAt(0) ? f : -1;
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

export const ALL_FIELDS = (1 << FIELD_COUNT) - 1;
