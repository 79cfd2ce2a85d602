/**
 * `npm run bench:rows -w @tillwatch/processor`: the events_raw row of every event (event-rows.ts,
 * one TabSeparated row per event, the event's JSON bytes as received among its fields), three
 * ways in one process on the same events, best of ROUNDS interleaved rounds:
 *
 *   template   the row as template strings, then Buffer.from (event-row-template.ts: how the processor
 *              built it before TsvWriter, tsv.test.ts's reference for the bytes)
 *   byte loop  TsvWriter with the JSON field escaped by a JS loop over its bytes (before this
 *              bench was written; the loop was 3 % of the processor's CPU in a profile)
 *   TsvWriter  as the processor runs it: a native UTF-8 check and searches for the four bytes
 *              to escape, then one copy
 *
 * The events: the processor bench's simulated stream (seed 1, scenario `all`), as JSON bytes.
 * Prints ns and JS heap allocated per row; asserts nothing. No Kafka, no ClickHouse.
 */
import { decodeEvent, type TerminalEvent } from '@tillwatch/contracts';
import { allocationMeter } from '@tillwatch/core/alloc-meter';
import { createSimulation } from '@tillwatch/simulator';
import { eventRowTemplate } from './event-row-template';
import { writeEvent } from './event-rows';
import { emptyRows } from './store';
import { TsvWriter } from './tsv';

const EVENTS = Number(process.argv[2] ?? 200_000);
const ROUNDS = 5;
const AT = 1_796_000_000_000;

const sim = createSimulation({
  seed: 1,
  scenario: 'all',
  start: Date.UTC(2026, 2, 2, 0, 0, 0),
  durationMs: 24 * 3_600_000,
});
const events: { ev: TerminalEvent; raw: Buffer; offset: string }[] = [];
for (const e of sim.events()) {
  const raw = Buffer.from(JSON.stringify(e));
  const d = decodeEvent(raw.toString('utf8'));
  if (!d.ok) continue;
  events.push({ ev: d.event, raw, offset: String(1_000_000 + events.length) });
  if (events.length === EVENTS) break;
}

/** TsvWriter with the JSON field escaped by the byte loop it had before */
class ByteLoopWriter extends TsvWriter {
  override bytes(b: Buffer): this {
    this.ensure(b.length * 2);
    const out = this.buf;
    let p = this.pos;
    let from = 0;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c >= 0x80) return this.text(b.toString('utf8'));
      if (c !== 92 && c !== 9 && c !== 10 && c !== 13) continue;
      p += b.copy(out, p, from, i);
      out[p++] = 92;
      out[p++] = c === 92 ? 92 : c === 9 ? 116 : c === 10 ? 110 : 114;
      from = i + 1;
    }
    p += b.copy(out, p, from, b.length);
    this.pos = p;
    return this;
  }
}

const ways: Record<string, () => number> = {
  template: () => {
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const x = events[i]!;
      bytes += Buffer.from(eventRowTemplate(x.ev, i & 3, x.offset, x.raw, AT)).length;
    }
    return bytes;
  },
  'byte loop': () => writeAll(new ByteLoopWriter(1 << 20)),
  TsvWriter: () => writeAll(new TsvWriter(1 << 20)),
};

function writeAll(w: TsvWriter): number {
  const rows = emptyRows();
  for (let i = 0; i < events.length; i++) {
    const x = events[i]!;
    writeEvent(w, x.ev, i & 3, x.offset, x.raw, AT);
    if ((i & 1023) === 1023) w.drainInto(rows.events);
  }
  w.drainInto(rows.events);
  let bytes = 0;
  for (const c of rows.events.chunks) bytes += c.length;
  return bytes;
}

const best: Record<string, { ns: number; alloc: number; bytes: number }> = {};
const meter = allocationMeter();
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(ways)) {
    (globalThis as { gc?: () => void }).gc?.();
    meter.start();
    const t0 = process.hrtime.bigint();
    const bytes = run();
    const ns = Number(process.hrtime.bigint() - t0) / events.length;
    const alloc = meter.stop() / events.length;
    if (!best[name] || ns < best[name].ns) best[name] = { ns, alloc, bytes };
  }
}
const ref = best.template!.ns;
console.log(
  `\nevents_raw rows of ${events.length.toLocaleString()} simulated events (JSON ${Math.round(
    events.reduce((s, x) => s + x.raw.length, 0) / events.length,
  )} B each), best of ${ROUNDS} interleaved rounds (node ${process.version})`,
);
console.table(
  Object.entries(best).map(([way, b]) => ({
    way,
    'ns/row': Math.round(b.ns),
    'vs template': `${(ref / b.ns).toFixed(2)}x`,
    'B allocated/row': Math.round(b.alloc),
    'row bytes': b.bytes,
  })),
);
