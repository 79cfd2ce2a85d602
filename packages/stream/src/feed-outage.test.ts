import { describe, expect, it } from 'vitest';
import type { Alert, TerminalEvent } from '@tillwatch/contracts';
import { smallFleet, stream, T0 } from '@tillwatch/rules/testing';
import { LocalTopology } from './topology';

const H = 3_600_000;
const MIN = 60_000;

/** 48 terminals in 4 regions; every region silent for 30 min at 12:20 local */
const fleet = smallFleet({ rate: 2, regions: 4, merchants: 16 });
const cut = T0 + 2 * H + 20 * MIN;
const evs = stream(fleet, T0, T0 + 4 * H, (ev) =>
  ev.ts >= cut && ev.ts < cut + 30 * MIN ? null : ev,
);

function run(events: TerminalEvent[], rollupPartitions: number): Alert[] {
  const out: Alert[] = [];
  const t = new LocalTopology({ alert: (a) => out.push(a) }, { partitions: 4, rollupPartitions });
  for (const ev of events) t.push(ev);
  return out;
}

const paged = (out: Alert[]) => [
  ...new Set(out.filter((a) => a.status === 'firing').map((a) => `${a.rule}/${a.key}`)),
];

describe('a feed outage through the topology', () => {
  it('one rollup partition sees every region: one feed alert, sent once the feed is back', () => {
    const out = run(evs, 1);
    expect(paged(out)).toEqual(['regional_outage/*']);
    const feed = out.find((a) => a.key === '*' && a.status === 'firing')!;
    // stamped in the gap: the stages close its boundaries when events resume
    expect(Date.parse(feed.ts) - cut).toBeLessThanOrEqual(2 * MIN);
    expect(feed.evidence.trigger).toBe('feed_outage');
  });

  it('several rollup partitions each see some regions: no feed alert, the regions page', () => {
    const out = run(evs, 4);
    expect(out.filter((a) => a.key === '*')).toEqual([]);
    expect(
      paged(out)
        .filter((k) => k.startsWith('regional_outage'))
        .sort(),
    ).toEqual(['R0', 'R1', 'R2', 'R3'].map((r) => `regional_outage/${r}`));
  });
});
