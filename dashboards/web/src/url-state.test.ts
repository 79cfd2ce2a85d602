import { describe, expect, it } from 'vitest';
import { parseHash, withParams } from './url-state';

describe('view state in the URL', () => {
  it('reads what it knows and drops the rest', () => {
    expect(parseHash('#/board?w=5m&sev=critical&q=T-A&rule=regional_outage&x=1&lang=zh')).toEqual({
      path: '#/board',
      params: { w: '5m', sev: 'critical', q: 'T-A', rule: 'regional_outage', lang: 'zh' },
    });
    expect(
      parseHash('#/board?w=7m&sev=fatal&state=gone&rule=DROP%20TABLE&q=%20%20').params,
    ).toEqual({});
    expect(parseHash('#/regions')).toEqual({ path: '#/regions', params: {} });
    expect(parseHash('#/webhooks?dlv=dead').params).toEqual({ dlv: 'dead' });
    expect(parseHash('#/webhooks?dlv=lost').params).toEqual({});
    expect(parseHash('#/board?group=incident').params).toEqual({ group: 'incident' });
    expect(parseHash('#/board?group=rule').params).toEqual({});
    expect(parseHash('#/board?region=CN-31&merchant=M-A').params).toEqual({
      region: 'CN-31',
      merchant: 'M-A',
    });
    expect(parseHash('#/board?region=CN%2031').params).toEqual({});
    expect(parseHash('#/entity/terminal/T1?range=7d').params).toEqual({ range: '7d' });
    expect(parseHash('#/entity/terminal/T1?range=2y').params).toEqual({});
    expect(
      parseHash('#/entity/terminal/T1?from=2026-12-01T00:00Z&to=2026-12-02T00:00Z').params,
    ).toEqual({ from: '2026-12-01T00:00Z', to: '2026-12-02T00:00Z' });
    // backwards, longer than the retention, or one end only: no absolute range
    for (const q of [
      'from=2026-12-02T00:00Z&to=2026-12-01T00:00Z',
      'from=2026-10-01T00:00Z&to=2026-12-01T00:00Z',
      'from=2026-12-01T00:00Z',
      'from=yesterday&to=today',
    ]) {
      expect(parseHash(`#/entity/terminal/T1?${q}`).params).toEqual({});
    }
  });
  it('writes changes in a fixed order, removing emptied ones', () => {
    expect(withParams('#/board?q=T1', { sev: 'warning', w: '1h' })).toBe(
      '#/board?w=1h&sev=warning&q=T1',
    );
    expect(withParams('#/board?sev=warning', { sev: undefined })).toBe('#/board');
    expect(withParams('#/alert/al-1', { lang: 'zh' })).toBe('#/alert/al-1?lang=zh');
    expect(withParams('#/webhooks?lang=zh', { dlv: 'dead' })).toBe('#/webhooks?lang=zh&dlv=dead');
    expect(withParams('#/board?q=T1', { group: 'incident' })).toBe('#/board?q=T1&group=incident');
    expect(withParams('#/board?group=incident', { group: undefined })).toBe('#/board');
    expect(withParams('#/entity/terminal/T1', { tcode: 'TO', tmin: '12.5' })).toBe(
      '#/entity/terminal/T1?tcode=TO&tmin=12.5',
    );
    expect(parseHash('#/entity/terminal/T1?tcode=T&tcat=nope&tmin=1e9&ttype=auth').params).toEqual({
      ttype: 'auth',
    });
  });
});
