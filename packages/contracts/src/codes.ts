/**
 * Response-code categories (docs/contract.md §1). Data, not logic: the table is the default and
 * callers may pass their own mapping (e.g. an acquirer with private codes).
 */
export const CATEGORIES = [
  'approved',
  'cardholder',
  'issuer',
  'terminal',
  'security',
  'timeout',
  'other',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Dense index of each category, for typed-array counters. Order matches CATEGORIES. */
export const CATEGORY_INDEX: Readonly<Record<Category, number>> = {
  approved: 0,
  cardholder: 1,
  issuer: 2,
  terminal: 3,
  security: 4,
  timeout: 5,
  other: 6,
};

export const DEFAULT_CODE_CATEGORIES: Readonly<
  Record<Exclude<Category, 'other'>, readonly string[]>
> = {
  approved: ['00', '08', '10', '11', '16', '85', 'Y1', 'Y3'],
  cardholder: ['51', '54', '55', '61', '65', '75', '14', '57'],
  issuer: ['05', '06', '91', '92', '96', '68', '90'],
  terminal: ['03', '12', '13', '30', '58', '94'],
  security: ['04', '07', '41', '43', '59', '62', '63'],
  timeout: ['TO'],
};

/** Operator input errors: 13 amount, 14 card number keyed wrong, 55 PIN, 30 format. */
export const INPUT_ERROR_CODES: readonly string[] = ['13', '14', '55', '30'];

export type CodeTable = ReadonlyMap<string, Category>;

export function buildCodeTable(
  mapping: Partial<Record<Category, readonly string[]>> = DEFAULT_CODE_CATEGORIES,
): CodeTable {
  const table = new Map<string, Category>();
  for (const category of CATEGORIES) {
    for (const code of mapping[category] ?? []) table.set(code, category);
  }
  return table;
}

export const DEFAULT_CODE_TABLE: CodeTable = buildCodeTable();

export function categorize(code: string, table: CodeTable = DEFAULT_CODE_TABLE): Category {
  return table.get(code) ?? 'other';
}

/** A fault is a failure that is not the cardholder's: issuer, terminal, security, timeout, other. */
export function isFault(category: Category): boolean {
  return category !== 'approved' && category !== 'cardholder';
}

export function isInputError(code: string): boolean {
  return INPUT_ERROR_CODES.includes(code);
}
