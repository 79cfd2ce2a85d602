import { z } from 'zod';
import { SqlFragment, join, raw } from './sql';

// Parameters and helpers shared by the read queries: every input is parsed by zod first.

export const epochMs = z.number().int().nonnegative();
export const windowLabel = z.string().regex(/^\d+(ms|s|m|h|d)$/);
export const limit = (def: number, max = 10_000) => z.number().int().min(1).max(max).default(def);
export const idList = z.array(z.string().min(1).max(128)).max(1000);

export const toDate = (ms: number) => new Date(ms);
export const conds = (parts: SqlFragment[]) => (parts.length ? join(parts, ' AND ') : raw('1'));
