import { describe, expect, it } from 'vitest';
import {
  canUseWebhooks,
  deliveryStatusParam,
  newestFirst,
  replayState,
  subscriptionBody,
  subscriptionPatch,
  type WebhookDelivery,
  type WebhookSubscription,
} from './webhooks';

const sub = (over: Partial<WebhookSubscription> = {}): WebhookSubscription => ({
  id: 'sub_1',
  merchantId: 'M-A',
  url: 'https://hooks.example.com/tw',
  description: null,
  rules: [],
  severities: [],
  language: 'en',
  enabled: true,
  disabledReason: null,
  createdAt: '2026-11-11T00:00:00.000Z',
  updatedAt: '2026-11-11T00:00:00.000Z',
  ...over,
});
const delivery = (over: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id: 'dlv_1',
  webhookId: 'msg_1',
  subscriptionId: 'sub_1',
  merchantId: 'M-A',
  kind: 'alert',
  alertId: 'al-1',
  alertStatus: 'firing',
  status: 'dead',
  attempts: 8,
  nextAttemptAt: null,
  lastStatusCode: 500,
  lastError: 'HTTP 500',
  createdAt: '2026-11-11T00:00:00.000Z',
  updatedAt: '2026-11-11T10:00:00.000Z',
  ...over,
});

describe('webhooks on the board', () => {
  it('are for merchants bound to a merchant and for admins, as the API lets in', () => {
    expect(canUseWebhooks({ role: 'merchant', merchantId: 'M-A' })).toBe(true);
    expect(canUseWebhooks({ role: 'admin' })).toBe(true);
    expect(canUseWebhooks({ role: 'merchant' })).toBe(false);
    expect(canUseWebhooks({ role: 'analyst' })).toBe(false);
    expect(canUseWebhooks({ role: 'sre' })).toBe(false);
  });

  it('a new subscription is sent trimmed, without empty parts, the merchant from staff only', () => {
    const form = {
      merchantId: ' M-B ',
      url: '  https://hooks.example.com/tw ',
      description: '   ',
      rules: ['card_testing', 'card_testing'],
      severities: ['critical'],
      language: 'zh',
    };
    expect(subscriptionBody({ role: 'merchant' }, form)).toEqual({
      url: 'https://hooks.example.com/tw',
      rules: ['card_testing'],
      severities: ['critical'],
      language: 'zh',
    });
    expect(subscriptionBody({ role: 'admin' }, { ...form, language: 'fr' })).toEqual({
      merchantId: 'M-B',
      url: 'https://hooks.example.com/tw',
      rules: ['card_testing'],
      severities: ['critical'],
      language: 'en',
    });
  });

  it('an edit sends only what changed, and can clear the description', () => {
    const s = sub({ description: 'till 3', rules: ['card_testing', 'input_errors'] });
    const same = {
      url: s.url,
      description: 'till 3',
      rules: ['input_errors', 'card_testing'],
      severities: [],
      language: 'en' as const,
    };
    expect(subscriptionPatch(s, same)).toEqual({});
    expect(
      subscriptionPatch(s, {
        ...same,
        url: 'https://other.example.com/',
        severities: ['critical'],
        language: 'zh',
      }),
    ).toEqual({ url: 'https://other.example.com/', severities: ['critical'], language: 'zh' });
    const { description: _, ...without } = same;
    expect(subscriptionPatch(s, without)).toEqual({ description: '' });
  });

  it('offer Replay on a failed delivery only, and only while its endpoint is enabled', () => {
    const subs = new Map([
      ['sub_1', sub()],
      ['sub_2', sub({ id: 'sub_2', enabled: false })],
    ]);
    expect(replayState(delivery(), subs)).toBe('ok');
    expect(replayState(delivery({ status: 'cancelled' }), subs)).toBe('ok');
    expect(replayState(delivery({ status: 'delivered' }), subs)).toBe('not-failed');
    expect(replayState(delivery({ status: 'pending' }), subs)).toBe('not-failed');
    expect(replayState(delivery({ subscriptionId: 'sub_2' }), subs)).toBe('disabled');
    expect(replayState(delivery({ subscriptionId: 'sub_gone' }), subs)).toBe('gone');
  });

  it('list the log newest first and read the status filter leniently', () => {
    const list = [
      delivery({ id: 'a', createdAt: '2026-11-11T00:00:00.000Z' }),
      delivery({ id: 'b', createdAt: '2026-11-11T02:00:00.000Z' }),
      delivery({ id: 'c', createdAt: '2026-11-11T01:00:00.000Z' }),
    ];
    expect(newestFirst(list).map((d) => d.id)).toEqual(['b', 'c', 'a']);
    expect(list.map((d) => d.id)).toEqual(['a', 'b', 'c']);
    expect(deliveryStatusParam('dead')).toBe('dead');
    expect(deliveryStatusParam('DROP')).toBeUndefined();
    expect(deliveryStatusParam(undefined)).toBeUndefined();
  });
});
