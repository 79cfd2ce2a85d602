import type { IHeaders } from 'kafkajs';

/** Header names of a dead-letter record (docs/contract.md §1: raw bytes, source offset, a reason). */
export const DLQ_HEADERS = {
  reason: 'reason',
  sourceTopic: 'source-topic',
  sourcePartition: 'source-partition',
  sourceOffset: 'source-offset',
  ts: 'ts',
} as const;

/** A reason a person can read, not a stack: 1000 chars keep a zod report of 5 issues whole. */
export const MAX_REASON_LENGTH = 1000;

export interface DeadLetter {
  /** the record's value exactly as it arrived (null for a tombstone) */
  raw: Buffer | null;
  /** the record's key as it arrived; kept so the DLQ is partitioned like the source */
  key?: Buffer | string | null;
  reason: string;
  sourceTopic: string;
  sourcePartition: number;
  /** Kafka offsets are int64: kept as the decimal string kafkajs uses */
  sourceOffset: string;
  /** when it was dead-lettered, epoch ms (default now) */
  ts?: number;
}

export function deadLetterHeaders(letter: DeadLetter): IHeaders {
  return {
    [DLQ_HEADERS.reason]: letter.reason.slice(0, MAX_REASON_LENGTH),
    [DLQ_HEADERS.sourceTopic]: letter.sourceTopic,
    [DLQ_HEADERS.sourcePartition]: String(letter.sourcePartition),
    [DLQ_HEADERS.sourceOffset]: letter.sourceOffset,
    [DLQ_HEADERS.ts]: new Date(letter.ts ?? Date.now()).toISOString(),
  };
}
