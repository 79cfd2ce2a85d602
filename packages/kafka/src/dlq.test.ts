import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { DLQ_HEADERS, MAX_REASON_LENGTH, deadLetterHeaders, readDeadLetter } from './dlq';

function asMessage(
  value: Buffer | null,
  headers: ReturnType<typeof deadLetterHeaders>,
): KafkaMessage {
  // As kafkajs hands a record back: header values arrive as Buffers.
  const bufHeaders = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, Buffer.from(String(v))]),
  );
  return {
    key: Buffer.from('M-001'),
    value,
    headers: bufHeaders,
    timestamp: '1767225600000',
    attributes: 0,
    offset: '0',
  } as KafkaMessage;
}

describe('dead-letter headers', () => {
  it('round-trip reason, source coordinates and time, and leave the bytes alone', () => {
    const raw = Buffer.from([0xff, 0x00, 0x7b, 0x22]); // not UTF-8, not JSON: kept as is
    const headers = deadLetterHeaders({
      raw,
      reason: 'invalid JSON: Unexpected token',
      sourceTopic: 'pos.events',
      sourcePartition: 3,
      sourceOffset: '9007199254740993', // above 2^53: must stay a string
      ts: Date.UTC(2026, 0, 1),
    });
    expect(headers[DLQ_HEADERS.reason]).toBe('invalid JSON: Unexpected token');
    const back = readDeadLetter(asMessage(raw, headers));
    expect(back.raw?.equals(raw)).toBe(true);
    expect(back).toMatchObject({
      reason: 'invalid JSON: Unexpected token',
      sourceTopic: 'pos.events',
      sourcePartition: 3,
      sourceOffset: '9007199254740993',
      ts: Date.UTC(2026, 0, 1),
    });
  });

  it('caps the reason so one bad record cannot carry a megabyte of headers', () => {
    const h = deadLetterHeaders({
      raw: null,
      reason: 'x'.repeat(5000),
      sourceTopic: 't',
      sourcePartition: 0,
      sourceOffset: '1',
    });
    expect(String(h[DLQ_HEADERS.reason])).toHaveLength(MAX_REASON_LENGTH);
    expect(Date.parse(String(h[DLQ_HEADERS.ts]))).not.toBeNaN();
  });
});
