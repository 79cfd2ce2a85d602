import { describe, expect, it } from 'vitest';
import { WriteQueue, mergeRows } from './commit';
import { emptyRows, type Rows } from './store';

/** rows of one batch: `n` events and pane tick chunks named after the batch, one alert id */
function rowsOf(name: string, n: number): Rows {
  const r = emptyRows();
  r.events.chunks.push(Buffer.from(`${name}-events\n`));
  r.events.count = n;
  r.panes.chunks.push(Buffer.from(`${name}-panes`));
  r.panes.count = 2 * n;
  r.paneRows = 3 * n;
  r.alerts.push({ alertId: name } as Rows['alerts'][number]);
  r.memories.push({ stage: name } as Rows['memories'][number]);
  return r;
}

const batch = (name: string, n: number, live = () => true) => ({
  rows: rowsOf(name, n),
  heartbeat: async () => {},
  live,
});

/** a write function whose calls the test settles by hand */
function manualWrites() {
  const calls: { rows: Rows; batches: number; live: () => boolean; settle: (e?: Error) => void }[] =
    [];
  const write = (rows: Rows, _hb: () => Promise<void>, live: () => boolean, batches: number) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ rows, batches, live, settle: (e) => (e ? reject(e) : resolve()) });
    });
  return { calls, write };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WriteQueue', () => {
  it('writes a batch handed to an idle queue at once, and merges those handed in meanwhile', async () => {
    const { calls, write } = manualWrites();
    const q = new WriteQueue(write);
    const done: string[] = [];
    const a = q.add(batch('a', 1)).then(() => done.push('a'));
    expect(calls).toHaveLength(1); // started synchronously: the server works while node computes
    const b = q.add(batch('b', 2)).then(() => done.push('b'));
    const c = q.add(batch('c', 3)).then(() => done.push('c'));
    await tick();
    expect(calls).toHaveLength(1); // one write at a time
    calls[0]!.settle();
    await a;
    await tick();
    expect(done).toEqual(['a']);
    expect(calls).toHaveLength(2);
    const merged = calls[1]!;
    expect(merged.batches).toBe(2);
    expect(Buffer.concat(merged.rows.events.chunks).toString()).toBe('b-events\nc-events\n');
    expect(merged.rows.events.count).toBe(5);
    expect(Buffer.concat(merged.rows.panes.chunks).toString()).toBe('b-panesc-panes');
    expect(merged.rows.panes.count).toBe(10);
    expect(merged.rows.paneRows).toBe(15);
    expect(merged.rows.alerts.map((x) => x.alertId)).toEqual(['b', 'c']);
    expect(merged.rows.memories.map((x) => x.stage)).toEqual(['b', 'c']);
    merged.settle();
    await Promise.all([b, c]);
    expect(done).toEqual(['a', 'b', 'c']);
  });

  it('runs up to `parallel` writes at once and merges what comes meanwhile', async () => {
    const { calls, write } = manualWrites();
    const q = new WriteQueue(write, 2);
    const a = q.add(batch('a', 1));
    const b = q.add(batch('b', 1));
    const c = q.add(batch('c', 1));
    const d = q.add(batch('d', 1));
    await tick();
    expect(calls.map((x) => x.batches)).toEqual([1, 1]);
    calls[1]!.settle(); // b's write ends first: c and d go together, a's write still running
    await b;
    await tick();
    expect(calls).toHaveLength(3);
    expect(calls[2]!.rows.alerts.map((x) => x.alertId)).toEqual(['c', 'd']);
    calls[2]!.settle();
    calls[0]!.settle();
    await Promise.all([a, c, d]);
  });

  it('fails every batch merged into a failed write, and goes on with the next', async () => {
    const { calls, write } = manualWrites();
    const q = new WriteQueue(write);
    const first = q.add(batch('a', 1));
    const b = q.add(batch('b', 1));
    const c = q.add(batch('c', 1));
    calls[0]!.settle();
    await first;
    await tick();
    calls[1]!.settle(new Error('ClickHouse away'));
    await expect(b).rejects.toThrow('ClickHouse away');
    await expect(c).rejects.toThrow('ClickHouse away');
    const d = q.add(batch('d', 1));
    await tick();
    expect(calls).toHaveLength(3);
    expect(calls[2]!.rows.alerts.map((x) => x.alertId)).toEqual(['d']);
    calls[2]!.settle();
    await d;
  });

  it('keeps a merged write going while any of its batches is live', async () => {
    const { calls, write } = manualWrites();
    const q = new WriteQueue(write);
    let aLive = true;
    let bLive = true;
    const first = q.add(batch('x', 1));
    const a = q.add(batch('a', 1, () => aLive));
    const b = q.add(batch('b', 1, () => bLive));
    calls[0]!.settle();
    await first;
    await tick();
    const live = calls[1]!.live;
    expect(live()).toBe(true);
    aLive = false;
    expect(live()).toBe(true);
    bLive = false;
    expect(live()).toBe(false);
    calls[1]!.settle();
    await Promise.all([a, b]);
  });
});

describe('mergeRows', () => {
  it('returns a single set as it is and concatenates several in order', () => {
    const one = rowsOf('a', 1);
    expect(mergeRows([one])).toBe(one);
    const m = mergeRows([rowsOf('a', 1), emptyRows(), rowsOf('b', 4)]);
    expect(m.events.count).toBe(5);
    expect(m.panes.count).toBe(10);
    expect(m.paneRows).toBe(15);
    expect(m.alerts.map((x) => x.alertId)).toEqual(['a', 'b']);
  });
});
