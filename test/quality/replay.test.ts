import { Readable, Writable } from 'node:stream';
import { replay } from '@tillwatch/stream';
import { createSimulation } from '@tillwatch/simulator';
import { describe, expect, it } from 'vitest';
import { DEADLINE_MS, ENGINE, SETTLE_DELAY_MS, TUNING_SEEDS, WEEK_FLEET, WEEK_START } from './plan';
import { jsonl, replayLines } from './week';

/**
 * What the quality suite relies on of replay, checked in every `npm test` (the calendar weeks
 * themselves run in `npm run test:quality`): the same stream gives the same bytes, and bad
 * lines are reported and skipped.
 */
const HOUR = 3_600_000;

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

describe('replay itself', () => {
  // Five evening hours of a tuning seed's fleet, across its malls' closing and an outage there:
  // small enough to replay twice in seconds.
  const lines = () => [
    ...jsonl(
      createSimulation({
        seed: TUNING_SEEDS[0],
        start: WEEK_START + 18 * HOUR,
        durationMs: 5 * HOUR,
        fleet: WEEK_FLEET,
        settlementDeadlineMs: DEADLINE_MS,
        settlementDelayMs: SETTLE_DELAY_MS,
        incidents: [{ scenario: 'outage-at-closing' }],
      }),
    ),
  ];

  it('replaying the same stream twice gives identical output, byte for byte', async () => {
    const chunks = lines();
    const first = await replayLines(chunks);
    const again = await replayLines(chunks);
    expect(first.text.length).toBeGreaterThan(0);
    expect(again.text).toBe(first.text);
    // and the stream keeps the contract's promises (each episode fires first, resolves once,
    // as it was last sent, ...): alertStreamFaults
    expect(first.faults).toEqual([]);
  }, 120_000);

  it('malformed lines are reported with their line numbers and do not stop the replay', async () => {
    const all = lines().join('').split('\n').slice(0, 5000);
    all.splice(9, 0, '{"type":"auth","eventId":'); // line 10
    all.splice(99, 0, JSON.stringify({ type: 'auth', eventId: 'x', ts: 'yesterday' })); // line 100
    all.splice(999, 0, 'garbage'); // line 1000
    const errors: [number, string][] = [];
    const r = await replay(Readable.from([all.join('\n')]), new Collect(), {
      engine: ENGINE,
      onError: (n, reason) => errors.push([n, reason]),
    });
    expect(errors.map((e) => e[0])).toEqual([10, 100, 1000]);
    expect(errors[1]![1]).toMatch(/ts/);
    expect(r.malformed).toBe(3);
    expect(r.events).toBe(all.filter((l) => l.length > 0).length - 3);
  }, 120_000);
});
