import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { describeError } from './errors';
import { setLang } from './i18n';

const refused = (code: string) =>
  new ApiError(
    400,
    'bad_request',
    'invalid body: assignee: Too small: expected string to have >=1 characters',
    [
      {
        in: 'body',
        path: 'assignee',
        code,
        message: 'Too small: expected string to have >=1 characters',
      },
    ],
  );

describe('describeError', () => {
  afterEach(() => setLang('en'));

  it('names the field and what is wrong, in the reader’s language, never the raw text', () => {
    setLang('en');
    expect(describeError(refused('too_small'))).toBe('Assign to: is required');
    setLang('zh');
    expect(describeError(refused('too_small'))).toBe('指派给: 不能为空');
    expect(describeError(refused('too_big'))).toBe('指派给: 太长');
  });

  it('says what to do for the other statuses, and for no connection', () => {
    setLang('en');
    expect(describeError(new ApiError(403, 'forbidden', 'role merchant may not …'))).toBe(
      'Your role may not do this.',
    );
    expect(describeError(new ApiError(503, 'unavailable', 'clickhouse down'))).toBe(
      'The server could not do this now: try again shortly.',
    );
    expect(describeError(new TypeError('Failed to fetch'))).toBe('No connection to the server.');
    expect(describeError(new RangeError('Invalid time value'))).toBe(
      'The board hit an error: reload the page.',
    );
  });

  it('words the webhook form’s refusals and a status as the screen means it', () => {
    setLang('en');
    const refused = (path: string, code: string) =>
      new ApiError(400, 'bad_request', `invalid body: ${path}: …`, [
        { in: 'body', path, code, message: '…' },
      ]);
    expect(describeError(refused('url', 'custom'))).toBe(
      'Endpoint URL: refused: use https:// and a public address',
    );
    expect(describeError(refused('url', 'too_small'))).toBe('Endpoint URL: is required');
    expect(describeError(refused('merchantId', 'custom'))).toBe('Merchant: is required');
    setLang('zh');
    expect(describeError(refused('url', 'custom'))).toBe(
      '接收地址 URL: 被拒绝：请使用 https:// 和公网地址',
    );
    setLang('en');
    const conflict = new ApiError(409, 'conflict', 'merchant M-A already has 10 …');
    expect(describeError(conflict)).toBe('Someone changed this meanwhile: reload and try again.');
    expect(describeError(conflict, { 409: 'errWebhookLimit' })).toBe(
      'This merchant has as many endpoints as allowed: delete one or change one.',
    );
  });
});
