import { afterEach, describe, expect, it } from 'vitest';
import { evidenceLines } from './evidence';
import { setLang } from './i18n';

describe('evidenceLines', () => {
  afterEach(() => setLang('en'));

  it('names, formats and indents the evidence instead of showing JSON', () => {
    setLang('en');
    const lines = evidenceLines({
      auths: 1250,
      lowerBound: 0.0274,
      byCategory: { approved: 50, timeout: 6, terminal: 0 },
      topResponseCodes: [{ code: 'TO', count: 5 }],
      pValue: 2.3e-8,
      link: { network: 'cellular', silentNeverSwitchedOff: 2 },
      someNewKey: true,
    });
    expect(lines.map((l) => `${'  '.repeat(l.depth)}${l.label}: ${l.text}`)).toEqual([
      'Auths: 1,250',
      'Rate, at least: 2.7%',
      'By category: approved 50, timeout 6',
      'Top response codes: TO 5',
      'Chance under normal (p): 2.3e-8',
      'Link: ',
      '  Network: cellular',
      '  Silent, never switched off: 2',
      'some new key: ✓',
    ]);
  });

  it('in Chinese', () => {
    setLang('zh');
    expect(evidenceLines({ failedReversals: 2, byCategory: { timeout: 3 } })).toEqual([
      { depth: 0, label: '冲正失败', text: '2' },
      { depth: 0, label: '按类别', text: '超时 3' },
    ]);
  });
});
