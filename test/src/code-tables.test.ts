import { describe, expect, it } from 'vitest';
import { CAT, DEFAULT_ENGINE_CONFIG } from '@tillwatch/core';
import {
  CATEGORIES,
  CATEGORY_INDEX,
  DEFAULT_CODE_CATEGORIES,
  INPUT_ERROR_CODES,
  buildCodeTable,
} from '@tillwatch/contracts';

/**
 * The response-code table (docs/contract.md §1) is defined in @tillwatch/contracts. @tillwatch/core
 * depends on nothing, so it keeps its own copy (DEFAULT_ENGINE_CONFIG.codeCategories, by CAT
 * index, and inputErrorCodes); the engine counts with it while the rules, the simulator and the
 * stores read contracts'. A code added to one and not the other would be counted in one category
 * and explained in another: this holds the two equal.
 */
describe("core's default code table is contracts' table", () => {
  it('numbers the categories the same way', () => {
    expect(Object.keys(CAT).sort()).toEqual([...CATEGORIES].sort());
    for (const c of CATEGORIES) expect(CAT[c], c).toBe(CATEGORY_INDEX[c]);
  });

  it('maps every code to the same category', () => {
    const core = new Map(
      [...DEFAULT_ENGINE_CONFIG.codeCategories].map(([code, i]) => [code, CATEGORIES[i]]),
    );
    const contracts = buildCodeTable(DEFAULT_CODE_CATEGORIES);
    expect(new Map([...core].sort())).toEqual(new Map([...contracts].sort()));
    // Codes in neither table are 'other' in both: core by absence, contracts by categorize().
    expect(core.has('XX')).toBe(false);
  });

  it('has the same input-error codes', () => {
    expect([...DEFAULT_ENGINE_CONFIG.inputErrorCodes].sort()).toEqual(
      [...INPUT_ERROR_CODES].sort(),
    );
  });
});
