/**
 * `npm run bench:rollups -w @tillwatch/processor`: pos.rollups bundles, binary frame against the
 * legacy JSON, same records, same process. The records are what the processor's event stages
 * send: the processor bench's simulated stream (seed 1, scenario `all`, default fleet), its
 * first EVENTS events through 4 event stages (eventMonitor, default rules, forwarded failures,
 * presence, silences, local alerts), cut into commit groups of GROUP_EVENTS events' messages,
 * each bundled per rollups partition as commit.ts does (bundleRollups / bundleRollupsJson).
 *
 *   encode  bundleRollups (binary), or bundleRollupsJson + Buffer.from of each value (kafkajs
 *           turns a string value into bytes at produce: JSON pays it, the frame is bytes already)
 *   decode  decodeRollupRecord of each bundle as Kafka hands it over (a Buffer): the frame
 *           reader, or JSON.parse(value.toString('utf8')) for the legacy form
 *
 * Prints ns, bytes and JS heap allocated (allocationMeter, @tillwatch/core/alloc-meter) per record, best
 * of ROUNDS interleaved rounds; asserts nothing. No Kafka, no ClickHouse.
 */
import { decodeEvent } from '@tillwatch/contracts';
import { DEFAULT_ENGINE_CONFIG } from '@tillwatch/core';
import { createSimulation } from '@tillwatch/simulator';
import {
  EventStage,
  FORWARD_CATEGORIES,
  decodeRollupRecord,
  eventMonitor,
  partitionerFor,
  streamWindows,
  type RollupMessage,
  type StageSink,
} from '@tillwatch/stream';
import { allocationMeter } from '@tillwatch/core/alloc-meter';
import { bundleRollups, bundleRollupsJson } from './rollup-bundle';

const EVENTS = Number(process.argv[2] ?? 300_000);
const GROUP_EVENTS = 4_000;
const SOURCES = 4;
const ROLLUP_PARTITIONS = 4;
const ROUNDS = 7;

const win = streamWindows(DEFAULT_ENGINE_CONFIG);
const engine = { windowsMs: win.windowsMs, panesMs: win.panesMs };

/** the event stages' rollup messages, one list per commit group */
function commitGroups(): RollupMessage[][] {
  const route = partitionerFor(SOURCES);
  const sim = createSimulation({
    seed: 1,
    scenario: 'all',
    start: Date.UTC(2026, 2, 2, 0, 0, 0),
    durationMs: 24 * 3_600_000,
  });
  const groups: RollupMessage[][] = [[]];
  const sink: StageSink = { alert() {}, rollup: (m) => groups.at(-1)!.push(m) };
  const stages = Array.from(
    { length: SOURCES },
    (_, partition) =>
      new EventStage({
        partition,
        sourcePartitions: SOURCES,
        rollupPartitions: ROLLUP_PARTITIONS,
        monitor: eventMonitor(engine),
        paneWindow: win.paneWindow,
        p0: win.p0,
        forwardCategories: FORWARD_CATEGORIES,
      }),
  );
  let n = 0;
  for (const raw of sim.events()) {
    const d = decodeEvent(JSON.stringify(raw));
    if (!d.ok) continue;
    stages[route(d.event.merchantId)]!.handle(d.event, sink);
    if (++n % GROUP_EVENTS === 0) groups.push([]);
    if (n >= EVENTS) break;
  }
  return groups.filter((g) => g.length > 0);
}

const t0 = performance.now();
const groups = commitGroups();
const setupS = (performance.now() - t0) / 1000;
const records = groups.reduce((a, g) => a + g.length, 0);
const kinds = new Map<string, number>();
for (const g of groups) for (const m of g) kinds.set(m.value.k, (kinds.get(m.value.k) ?? 0) + 1);
const route = partitionerFor(ROLLUP_PARTITIONS);

interface Format {
  name: string;
  encode(g: RollupMessage[]): Buffer[];
}
const formats: Format[] = [
  {
    name: 'JSON (legacy)',
    encode: (g) => bundleRollupsJson(g, route).map((b) => Buffer.from(b.value)),
  },
  { name: 'binary frame', encode: (g) => bundleRollups(g, route).map((b) => b.value) },
];

interface Stat {
  encNs: number;
  decNs: number;
  encB: number;
  decB: number;
}
const gc = (globalThis as { gc?: () => void }).gc;
const meter = allocationMeter();
let sink = 0;

function round(f: Format): Stat & { bytes: number; bundles: number } {
  gc?.();
  let values: Buffer[][] = [];
  meter.start();
  let t = process.hrtime.bigint();
  for (const g of groups) values.push(f.encode(g));
  const encNs = Number(process.hrtime.bigint() - t);
  const encB = meter.stop();
  gc?.();
  meter.start();
  t = process.hrtime.bigint();
  for (const vs of values) for (const v of vs) if (decodeRollupRecord(v).k === 'b') sink++;
  const decNs = Number(process.hrtime.bigint() - t);
  const decB = meter.stop();
  const bytes = values.reduce((a, vs) => a + vs.reduce((b, v) => b + v.length, 0), 0);
  const bundles = values.reduce((a, vs) => a + vs.length, 0);
  values = [];
  return { encNs, decNs, encB, decB, bytes, bundles };
}

// check once that both give each rollups partition the same records
for (const g of groups.slice(0, 50)) {
  const perPartition = (out: { partition: number; value: Buffer | string }[]) =>
    Array.from({ length: ROLLUP_PARTITIONS }, (_, p) =>
      JSON.stringify(
        out
          .filter((b) => b.partition === p)
          .flatMap((b) => (decodeRollupRecord(Buffer.from(b.value)) as { r: unknown[] }).r),
      ),
    );
  const j = perPartition(bundleRollupsJson(g, route));
  const b = perPartition(bundleRollups(g, route));
  for (let p = 0; p < ROLLUP_PARTITIONS; p++)
    if (j[p] !== b[p]) throw new Error(`binary and JSON bundles decode differently (${p})`);
}

const best = formats.map(() => ({
  encNs: Infinity,
  decNs: Infinity,
  encB: Infinity,
  decB: Infinity,
  bytes: 0,
  bundles: 0,
}));
for (let r = 0; r < ROUNDS; r++) {
  formats.forEach((f, i) => {
    const s = round(f);
    const b = best[i]!;
    b.encNs = Math.min(b.encNs, s.encNs);
    b.decNs = Math.min(b.decNs, s.decNs);
    b.encB = Math.min(b.encB, s.encB);
    b.decB = Math.min(b.decB, s.decB);
    b.bytes = s.bytes;
    b.bundles = s.bundles;
  });
}
if (sink < 0) console.log(sink);

console.log(
  `${EVENTS.toLocaleString('en')} simulated events (seed 1, scenario all) through ${SOURCES} event stages ` +
    `in ${setupS.toFixed(1)} s: ${records.toLocaleString('en')} rollup records ` +
    `(${[...kinds].map(([k, n]) => `${k} ${n.toLocaleString('en')}`).join(', ')}), ` +
    `${groups.length} commit groups of ${GROUP_EVENTS.toLocaleString('en')} events, ${ROLLUP_PARTITIONS} rollups partitions; ` +
    `best of ${ROUNDS} rounds, node ${process.version}${gc ? '' : ' (no --expose-gc)'}\n`,
);
const rows = formats.map((f, i) => {
  const b = best[i]!;
  return {
    format: f.name,
    'encode ns/rec': (b.encNs / records).toFixed(0),
    'decode ns/rec': (b.decNs / records).toFixed(0),
    'total ns/rec': ((b.encNs + b.decNs) / records).toFixed(0),
    'bytes/rec': (b.bytes / records).toFixed(1),
    bundles: b.bundles,
    'alloc enc B/rec': (b.encB / records).toFixed(0),
    'alloc dec B/rec': (b.decB / records).toFixed(0),
  };
});
console.table(rows);
const [j, bin] = best;
console.log(
  `binary / JSON: encode ${(bin!.encNs / j!.encNs).toFixed(2)}, decode ${(bin!.decNs / j!.decNs).toFixed(2)}, ` +
    `total ${((bin!.encNs + bin!.decNs) / (j!.encNs + j!.decNs)).toFixed(2)}, bytes ${(bin!.bytes / j!.bytes).toFixed(2)}`,
);
