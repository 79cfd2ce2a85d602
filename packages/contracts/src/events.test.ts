import { describe, expect, it } from 'vitest';
import { decodeEvent, validateEvent } from './events';

const base = {
  eventId: 'e-1',
  ts: 1_767_225_600_000,
  terminalId: 'T-0001',
  merchantId: 'M-001',
  region: 'CN-31',
};
const auth = {
  type: 'auth',
  ...base,
  txnId: 'x-1',
  amount: 1250,
  currency: 'CNY',
  responseCode: '00',
};
const reversal = {
  type: 'reversal',
  ...base,
  txnId: 'x-1',
  reason: 'timeout',
  status: 'succeeded',
};
const settlement = { type: 'settlement', ...base, txnId: 'x-1', amount: 1250, status: 'settled' };
const heartbeat = { type: 'heartbeat', ...base, firmware: '4.2.1', network: 'wifi', signal: 80 };

function reason(v: unknown): string {
  const r = validateEvent(v);
  expect(r.ok).toBe(false);
  return r.ok ? '' : r.reason;
}

describe('valid events of every type', () => {
  it.each([auth, reversal, settlement, heartbeat])('accepts $type', (ev) => {
    const r = validateEvent(ev);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.event.ts).toBe(base.ts);
  });

  it('accepts every optional auth field', () => {
    const r = validateEvent({
      ...auth,
      latencyMs: 812.5,
      entryMode: 'contactless',
      cardFingerprint: 'fp_abc',
      issuerId: 'ISS-9',
      firmware: 'v2.1.0',
    });
    expect(r.ok).toBe(true);
  });

  it('accepts ISO-8601 time with an offset and normalises it to epoch ms', () => {
    const r = validateEvent({ ...auth, ts: '2026-01-01T08:00:00+08:00' });
    expect(r).toMatchObject({ ok: true, event: { ts: Date.UTC(2026, 0, 1, 0, 0, 0) } });
    const z = validateEvent({ ...auth, ts: '2026-01-01T00:00:00.250Z' });
    expect(z).toMatchObject({ ok: true, event: { ts: Date.UTC(2026, 0, 1) + 250 } });
  });

  it('keeps unknown extra fields (raw storage) and ignores them', () => {
    const r = validateEvent({ ...auth, acquirerRef: 'abc' });
    expect(r).toMatchObject({ ok: true, event: { acquirerRef: 'abc' } });
  });

  it('accepts the boundary lengths', () => {
    expect(validateEvent({ ...auth, eventId: 'e'.repeat(64), terminalId: 'T'.repeat(32) }).ok).toBe(
      true,
    );
    expect(validateEvent({ ...auth, txnId: 't'.repeat(64), amount: 0 }).ok).toBe(true);
    expect(validateEvent({ ...heartbeat, signal: 0 }).ok).toBe(true);
    expect(validateEvent({ ...heartbeat, signal: 100 }).ok).toBe(true);
  });
});

describe('every rule of the contract rejects with a readable reason', () => {
  it('type', () => {
    expect(reason({ ...auth, type: 'refund' })).toMatch(/type/);
    expect(reason({ ...base })).toMatch(/type/);
  });
  it('eventId: 1..64 chars', () => {
    expect(reason({ ...auth, eventId: '' })).toMatch(/eventId/);
    expect(reason({ ...auth, eventId: 'e'.repeat(65) })).toMatch(/eventId/);
  });
  it('ts: epoch ms or ISO-8601 with offset', () => {
    expect(reason({ ...auth, ts: '2026-01-01T00:00:00' })).toMatch(/ts/); // no offset
    expect(reason({ ...auth, ts: 'yesterday' })).toMatch(/ts/);
    expect(reason({ ...auth, ts: -5 })).toMatch(/ts/);
    expect(reason({ ...auth, ts: Number.NaN })).toMatch(/ts/);
    expect(reason({ ...auth, ts: 1e20 })).toMatch(/ts/);
    expect(reason({ ...auth, ts: null })).toMatch(/ts/);
  });
  it.each(['terminalId', 'merchantId', 'region'])('%s: 1..32 chars of [A-Za-z0-9_.:-]', (f) => {
    expect(reason({ ...auth, [f]: '' })).toMatch(new RegExp(f));
    expect(reason({ ...auth, [f]: 'x'.repeat(33) })).toMatch(new RegExp(f));
    expect(reason({ ...auth, [f]: 'has space' })).toMatch(new RegExp(f));
    expect(reason({ ...auth, [f]: '终端' })).toMatch(new RegExp(f));
    expect(validateEvent({ ...auth, [f]: 'a_b.c:d-E9' }).ok).toBe(true);
  });
  it('auth: txnId, amount, currency, responseCode', () => {
    expect(reason({ ...auth, txnId: '' })).toMatch(/txnId/);
    expect(reason({ ...auth, txnId: 't'.repeat(65) })).toMatch(/txnId/);
    expect(reason({ ...auth, amount: 12.5 })).toMatch(/amount/);
    expect(reason({ ...auth, amount: -1 })).toMatch(/amount/);
    expect(reason({ ...auth, amount: '100' })).toMatch(/amount/);
    expect(reason({ ...auth, currency: 'cny' })).toMatch(/currency/);
    expect(reason({ ...auth, currency: 'CNYY' })).toMatch(/currency/);
    expect(reason({ ...auth, responseCode: '0' })).toMatch(/responseCode/);
    expect(reason({ ...auth, responseCode: 'to' })).toMatch(/responseCode/);
    expect(validateEvent({ ...auth, responseCode: 'TO' }).ok).toBe(true);
    const { responseCode: _omit, ...noCode } = auth;
    expect(reason(noCode)).toMatch(/responseCode/);
  });
  it('auth optional fields', () => {
    expect(reason({ ...auth, latencyMs: -1 })).toMatch(/latencyMs/);
    expect(reason({ ...auth, entryMode: 'nfc' })).toMatch(/entryMode/);
    expect(reason({ ...auth, cardFingerprint: '' })).toMatch(/cardFingerprint/);
    expect(reason({ ...auth, issuerId: 'i'.repeat(33) })).toMatch(/issuerId/);
    expect(reason({ ...auth, firmware: '' })).toMatch(/firmware/);
  });
  it('reversal: reason and status enums', () => {
    expect(reason({ ...reversal, reason: 'bored' })).toMatch(/reason/);
    expect(reason({ ...reversal, status: 'ok' })).toMatch(/status/);
    const { txnId: _t, ...noTxn } = reversal;
    expect(reason(noTxn)).toMatch(/txnId/);
  });
  it('settlement: amount and status', () => {
    expect(reason({ ...settlement, status: 'pending' })).toMatch(/status/);
    expect(reason({ ...settlement, amount: 1.5 })).toMatch(/amount/);
  });
  it('heartbeat: network and signal', () => {
    expect(reason({ ...heartbeat, network: '5g' })).toMatch(/network/);
    expect(reason({ ...heartbeat, signal: 101 })).toMatch(/signal/);
    expect(reason({ ...heartbeat, signal: -1 })).toMatch(/signal/);
  });
});

describe('decodeEvent from bytes', () => {
  it('decodes a Buffer as Kafka hands it', () => {
    const r = decodeEvent(Buffer.from(JSON.stringify(auth)));
    expect(r.ok).toBe(true);
  });
  it('rejects bad JSON, non-objects and binary junk with a reason', () => {
    expect(decodeEvent('{"type":')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/invalid JSON/),
    });
    expect(decodeEvent('[1,2]')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/object/),
    });
    expect(decodeEvent('null')).toMatchObject({ ok: false });
    expect(decodeEvent(Buffer.from([0xff, 0x00, 0x13]))).toMatchObject({ ok: false });
  });
});
