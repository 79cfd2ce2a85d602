import { describe, expect, it } from 'vitest';
import { buildCodeTable, categorize, isFault, isInputError } from './codes';

describe('response-code categories', () => {
  it('maps every code of the contract table', () => {
    expect(categorize('00')).toBe('approved');
    expect(categorize('Y3')).toBe('approved');
    expect(categorize('51')).toBe('cardholder');
    expect(categorize('91')).toBe('issuer');
    expect(categorize('58')).toBe('terminal');
    expect(categorize('59')).toBe('security');
    expect(categorize('TO')).toBe('timeout');
    expect(categorize('ZZ')).toBe('other');
  });
  it('faults are failures that are not the cardholder’s', () => {
    expect(isFault('approved')).toBe(false);
    expect(isFault('cardholder')).toBe(false);
    for (const c of ['issuer', 'terminal', 'security', 'timeout', 'other'] as const) {
      expect(isFault(c)).toBe(true);
    }
  });
  it('input errors are 13, 14, 55, 30', () => {
    expect(['13', '14', '55', '30'].every(isInputError)).toBe(true);
    expect(isInputError('51')).toBe(false);
  });
  it('is configurable', () => {
    const t = buildCodeTable({ approved: ['00'], issuer: ['P1'] });
    expect(categorize('P1', t)).toBe('issuer');
    expect(categorize('08', t)).toBe('other');
  });
});
