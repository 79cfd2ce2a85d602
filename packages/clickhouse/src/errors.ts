/**
 * Errors carry a code and whether retrying helps (docs/conventions.md, on errors). The batch writer retries
 * only what is retriable: the server being away or overloaded, never a bad row.
 */
export class TwClickHouseError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TwClickHouseError';
  }
}

/**
 * ClickHouse server error codes worth retrying (src/Common/ErrorCodes.cpp, stable since 1.1):
 * 159 TIMEOUT_EXCEEDED, 164 READONLY, 202 TOO_MANY_SIMULTANEOUS_QUERIES, 203 NO_FREE_CONNECTION,
 * 209 SOCKET_TIMEOUT, 210 NETWORK_ERROR, 241 MEMORY_LIMIT_EXCEEDED, 242 TABLE_IS_READ_ONLY,
 * 252 TOO_MANY_PARTS, 319 UNKNOWN_STATUS_OF_INSERT, 425 SYSTEM_ERROR, 999 KEEPER_EXCEPTION.
 */
const RETRIABLE_SERVER_CODES = new Set([
  '159',
  '164',
  '202',
  '203',
  '209',
  '210',
  '241',
  '242',
  '252',
  '319',
  '425',
  '999',
]);

/** Node/undici network failures: the server is down, restarting or unreachable for now. */
const RETRIABLE_NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function isRetriableClickHouseError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { retriable?: unknown; code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.retriable === 'boolean') return e.retriable;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && RETRIABLE_SERVER_CODES.has(code)) return true;
  if (code && RETRIABLE_NET_CODES.has(code)) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  // The client reports its own request timeout and a dropped socket by message only.
  if (/timeout error|socket hang up|ECONNREFUSED|ECONNRESET|other side closed/i.test(msg)) {
    return true;
  }
  return e.cause !== undefined && e.cause !== err ? isRetriableClickHouseError(e.cause) : false;
}
