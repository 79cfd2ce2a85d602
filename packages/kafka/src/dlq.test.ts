import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, MAX_REASON_LENGTH, deadLetterHeaders } from './dlq';

describe('dead-letter headers', () => {
  it('carry reason, source coordinates and time as text; the bytes are not theirs', () => {
    const headers = deadLetterHeaders({
      raw: Buffer.from([0xff, 0x00, 0x7b, 0x22]), // not UTF-8, not JSON: the record's value
      reason: 'invalid JSON: Unexpected token',
      sourceTopic: 'pos.events',
      sourcePartition: 3,
      sourceOffset: '9007199254740993', // above 2^53: must stay a string
      ts: Date.UTC(2026, 0, 1),
    });
    expect(headers).toEqual({
      [DLQ_HEADERS.reason]: 'invalid JSON: Unexpected token',
      [DLQ_HEADERS.sourceTopic]: 'pos.events',
      [DLQ_HEADERS.sourcePartition]: '3',
      [DLQ_HEADERS.sourceOffset]: '9007199254740993',
      [DLQ_HEADERS.ts]: '2026-01-01T00:00:00.000Z',
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
