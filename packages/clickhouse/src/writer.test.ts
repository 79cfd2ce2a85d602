import { describe, expect, it } from 'vitest';
import { BatchWriter, type PressureState } from './writer';
import { TwClickHouseError } from './errors';

const down = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });

function recorder(script: ((rows: number[]) => void)[] = []) {
  const inserts: number[][] = [];
  let call = 0;
  return {
    inserts,
    insert: async (rows: number[]) => {
      const step = script[call++];
      step?.(rows);
      inserts.push([...rows]);
    },
  };
}

describe('BatchWriter', () => {
  it('cuts chunks at maxRows and flushes the rest after maxDelayMs', async () => {
    const r = recorder();
    const w = new BatchWriter<number>({ name: 't', insert: r.insert, maxRows: 3, maxDelayMs: 20 });
    const p = w.add([1, 2, 3, 4, 5, 6, 7]);
    await p; // resolves only when all seven are written, the last one by the timer
    expect(r.inserts).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(w.pending).toBe(0);
  });

  it('keeps retrying while the server is down, reports failing, and resolves once written', async () => {
    const states: PressureState[] = [];
    const r = recorder([
      () => {
        throw down();
      },
      () => {
        throw down();
      },
    ]);
    const w = new BatchWriter<number>({
      name: 't',
      insert: r.insert,
      maxRows: 10,
      maxDelayMs: 1,
      minRetryMs: 1,
      maxRetryMs: 2,
    });
    w.onPressure((s) => states.push(s));
    await w.add([1, 2]);
    expect(r.inserts).toEqual([[1, 2]]); // written once, after two refusals
    expect(states).toEqual(['failing', 'ok']);
  });

  it('rejects only the chunk with a bad row; later chunks still go through, in order', async () => {
    const r = recorder([
      () => {
        throw Object.assign(new Error('Cannot parse input'), { code: '27' });
      },
    ]);
    const w = new BatchWriter<number>({ name: 't', insert: r.insert, maxRows: 2, maxDelayMs: 1 });
    const bad = w.add([1, 2]);
    const good = w.add([3, 4]);
    await expect(bad).rejects.toBeInstanceOf(TwClickHouseError);
    await expect(bad).rejects.toMatchObject({ retriable: false });
    await good;
    expect(r.inserts).toEqual([[3, 4]]);
  });

  it('signals backlog above the high-water mark and clears it below half', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const w = new BatchWriter<number>({
      name: 't',
      insert: () => gate,
      maxRows: 10,
      maxDelayMs: 1,
      highWaterRows: 20,
    });
    const states: PressureState[] = [];
    w.onPressure((s) => states.push(s));
    const all = w.add(Array.from({ length: 25 }, (_, i) => i));
    expect(w.state).toBe('backlog');
    release();
    await all;
    expect(w.state).toBe('ok');
    expect(states).toEqual(['backlog', 'ok']);
  });

  it('flush() waits for everything added so far; close() refuses more', async () => {
    const r = recorder();
    const w = new BatchWriter<number>({
      name: 't',
      insert: r.insert,
      maxRows: 100,
      maxDelayMs: 60_000,
    });
    void w.add([1]);
    await w.flush(); // no 60 s wait: flush cuts the buffer now
    expect(r.inserts).toEqual([[1]]);
    await w.close();
    await expect(w.add([2])).rejects.toMatchObject({ code: 'TW_CH_CLOSED' });
  });
});
