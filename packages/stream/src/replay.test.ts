import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TerminalEvent } from '@tillwatch/contracts';
import { alertSchema, alertStreamFaults } from '@tillwatch/contracts';
import { replay } from './replay';
import { smallFleet, stream, T0 } from '@tillwatch/rules/testing';

const H = 3_600_000;

function jsonl(evs: TerminalEvent[]): string {
  return evs.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

async function run(text: string, onError?: (n: number, r: string) => void) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const result = await replay(Readable.from([text]), out, { onError });
  return { result, text: Buffer.concat(chunks).toString('utf8') };
}

const fleet = smallFleet({ rate: 2 });
const evs = stream(fleet, T0, T0 + 3.5 * H, (ev, t, rnd) =>
  t.id === 'T2_2' && ev.type === 'auth' && ev.ts >= T0 + 2 * H && rnd() < 0.4
    ? { ...ev, responseCode: '94' }
    : ev,
);

describe('replay', () => {
  it('writes every alert transition as one contract object per line, in event time', async () => {
    const { result, text } = await run(jsonl(evs));
    const lines = text.trim().split('\n');
    expect(result).toMatchObject({ events: evs.length, malformed: 0, alerts: lines.length });
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(alertSchema.safeParse(JSON.parse(l)).success).toBe(true);
    expect(alertStreamFaults(lines.map((l) => JSON.parse(l)))).toEqual([]);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ rule: 'terminal_fault_spike', key: 'T2_2', status: 'firing' });
    // Event time, not wall clock: the alert is stamped inside the stream's span.
    expect(Date.parse(first.ts)).toBeGreaterThan(T0 + 2 * H);
    expect(Date.parse(first.ts)).toBeLessThan(T0 + 3.5 * H);
  });

  it('the same input gives the same output, byte for byte', async () => {
    const a = await run(jsonl(evs));
    const b = await run(jsonl(evs));
    expect(a.text.length).toBeGreaterThan(0);
    expect(b.text).toBe(a.text);
  });

  it('reports malformed lines with their number and reason, and goes on', async () => {
    const lines = jsonl(evs).trim().split('\n');
    const bad = [
      ...lines.slice(0, 3),
      '{"type":"auth",', // line 4: not JSON
      '', // line 5: blank, skipped silently
      JSON.stringify({ ...JSON.parse(lines[0]!), eventId: 'zz', amount: -5 }), // line 6
      '[1,2]', // line 7
      ...lines.slice(3),
    ];
    const errors: [number, string][] = [];
    const { result, text } = await run(bad.join('\n'), (n, r) => errors.push([n, r]));
    expect(errors.map((e) => e[0])).toEqual([4, 6, 7]);
    expect(errors[0]![1]).toMatch(/invalid JSON/);
    expect(errors[1]![1]).toMatch(/amount/);
    expect(errors[2]![1]).toMatch(/object/);
    expect(result).toMatchObject({ lines: bad.length, malformed: 3, events: evs.length });
    // The bad lines change nothing else: same alerts as the clean file.
    expect(text).toBe((await run(jsonl(evs))).text);
  });

  it('one event with a far-future ts stops no detection: reported ts_in_future with its line number, the alerts are those of the file without it', async () => {
    const lines = jsonl(evs).trim().split('\n');
    const odd = { ...evs[999]!, eventId: 'from-2100', ts: Date.UTC(2100, 0, 1) };
    const withOdd = [...lines.slice(0, 1000), JSON.stringify(odd), ...lines.slice(1000)];
    const errors: [number, string][] = [];
    const { result, text } = await run(withOdd.join('\n'), (n, r) => errors.push([n, r]));
    expect(errors).toEqual([[1001, expect.stringMatching(/^ts_in_future: event time 2100-01-01/)]]);
    expect(result).toMatchObject({ future: 1, late: 0, events: evs.length + 1 });
    expect(text).toBe((await run(jsonl(evs))).text);
  });
});
