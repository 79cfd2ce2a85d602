import { CAT, type EngineConfig } from './types';

const DEFAULT_CODES: Record<string, number> = {};
const table: [number, string[]][] = [
  [CAT.approved, ['00', '08', '10', '11', '16', '85', 'Y1', 'Y3']],
  [CAT.cardholder, ['51', '54', '55', '61', '65', '75', '14', '57']],
  [CAT.issuer, ['05', '06', '91', '92', '96', '68', '90']],
  [CAT.terminal, ['03', '12', '13', '30', '58', '94']],
  [CAT.security, ['04', '07', '41', '43', '59', '62', '63']],
  [CAT.timeout, ['TO']],
];
for (const [cat, codes] of table) for (const c of codes) DEFAULT_CODES[c] = cat;

export const DEFAULT_ENGINE_CONFIG: EngineConfig = {
  windowsMs: [60_000, 300_000, 900_000, 3_600_000],
  // 12 panes of 5 s, 30 of 10 s, 30 of 30 s, 30 of 2 min: a window slides by a pane at a time.
  panesMs: [5_000, 10_000, 30_000, 120_000],
  allowedLatenessMs: 10_000,
  settlementDeadlineMs: 24 * 3_600_000,
  reversalGraceMs: 60_000,
  dedupCapacity: 1 << 20,
  idleEvictMs: 2 * 3_600_000,
  smallAmount: 500,
  codeCategories: new Map(Object.entries(DEFAULT_CODES)),
  inputErrorCodes: ['13', '14', '55', '30'],
};

export function resolveConfig(partial: Partial<EngineConfig> = {}): EngineConfig {
  const c: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, ...partial };
  if (c.windowsMs.length === 0) throw new Error('engine: at least one window is required');
  if (c.windowsMs.length !== c.panesMs.length) {
    throw new Error('engine: windowsMs and panesMs must have the same length');
  }
  c.windowsMs.forEach((w, i) => {
    const p = c.panesMs[i]!;
    if (!(p > 0) || w % p !== 0) {
      throw new Error(`engine: window ${w} ms is not a whole number of ${p} ms panes`);
    }
  });
  const longest = Math.max(...c.windowsMs);
  if (c.idleEvictMs < longest) {
    throw new Error(
      `engine: idleEvictMs (${c.idleEvictMs}) must be >= the longest window (${longest})`,
    );
  }
  if (c.dedupCapacity < 1) throw new Error('engine: dedupCapacity must be >= 1');
  return c;
}
