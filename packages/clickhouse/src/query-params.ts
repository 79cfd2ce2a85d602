import { z } from 'zod';
import { SqlFragment, join, raw } from './sql';

// Parameters and helpers shared by the read queries: every input is parsed by zod first.

/**
 * ClickHouse's DateTime ends at 2^32 - 1 s (2106-02-07T06:28:15Z): a time past it rendered as
 * toDateTime() wraps around or fails on the server (a 500 for `since=8640000000000001` before
 * the gateway checked its times), so it is refused here, before any SQL is written.
 */
export const DATETIME_MAX_MS = 4_294_967_295_999;
export const epochMs = z.number().int().min(0).max(DATETIME_MAX_MS);
export const windowLabel = z.string().regex(/^\d+(ms|s|m|h|d)$/);
export const limit = (def: number, max = 10_000) => z.number().int().min(1).max(max).default(def);
export const idList = z.array(z.string().min(1).max(128)).max(1000);

export const toDate = (ms: number) => new Date(ms);
export const conds = (parts: SqlFragment[]) => (parts.length ? join(parts, ' AND ') : raw('1'));
