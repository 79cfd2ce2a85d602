import { describe, expect, it } from 'vitest';
import { decodeEventFast, fastDecodeStats, type Alert } from '@tillwatch/contracts';
import { createSimulation } from '@tillwatch/simulator';
import { LocalTopology } from '@tillwatch/stream';
import { warmUpCode } from './code-warmup';
import { loadProcessorConfig } from './config';

const cfg = loadProcessorConfig({
  KAFKA_BROKERS: '127.0.0.1:9092',
  CLICKHOUSE_URL: 'http://127.0.0.1:8123',
});

/** The alerts of a stream the live bench sends (seed 2, the demo scenario), as JSON bytes decoded. */
function alertsOf(n: number): Alert[] {
  const out: Alert[] = [];
  const t = new LocalTopology({ alert: (a) => void out.push(a) });
  const sim = createSimulation({
    seed: 2,
    scenario: 'demo',
    start: Date.UTC(2026, 2, 2, 1, 0, 0),
    volumeScale: 1,
  });
  let i = 0;
  for (const ev of sim.events()) {
    if (i++ >= n) break;
    const d = decodeEventFast(Buffer.from(JSON.stringify(ev)));
    if (d.ok) t.push(d.event);
  }
  t.end();
  return out;
}

describe('warmUpCode', () => {
  it('runs the decoder, the stages and both row writers on as many simulated events as asked', () => {
    const w = warmUpCode(cfg, 6000);
    expect(w.events).toBe(6000);
    // every event's events_raw row (its raw JSON among the columns: well over 100 B each)
    expect(w.eventRowBytes).toBeGreaterThan(6000 * 100);
    expect(w.paneRows).toBeGreaterThan(0);
  });

  it('0 events: nothing run', () => {
    expect(warmUpCode(cfg, 0)).toEqual({
      events: 0,
      paneRows: 0,
      eventRowBytes: 0,
      alerts: 0,
      ms: 0,
    });
  });

  it('leaves nothing behind: the decoder counters as they were, the same alerts after it', () => {
    const before = alertsOf(60_000);
    expect(before.length).toBeGreaterThan(0);
    fastDecodeStats.fast = 11;
    fastDecodeStats.fallback = 3;
    const w = warmUpCode(cfg, 20_000);
    expect(w.events).toBe(20_000);
    expect(fastDecodeStats).toEqual({ fast: 11, fallback: 3 });
    expect(alertsOf(60_000)).toEqual(before);
  }, 60_000);
});
