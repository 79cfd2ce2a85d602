/**
 * Bytes of engine state per tracked terminal, measured (not estimated): process.memoryUsage()
 * deltas after gc — JS heap (Maps, id strings, memo arrays) plus ArrayBuffers (every typed
 * array, at its doubled capacity) — for a fleet fed 75 minutes of event time, so every
 * window (1m..1h) is full. Needs node --expose-gc. Prints a table; asserts nothing.
 */
import { fmt, table, workload } from './bench-workload';
import { Engine } from './engine';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function used(): { heap: number; buffers: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
}

/** One measurement, in a fresh process so nothing else is allocated or freed meanwhile. */
function measure(terminals: number, perHour: number): Record<string, string> {
  const before = used();
  const engine = new Engine();
  const w = workload(terminals, perHour);
  const events = Math.round(terminals * perHour * 1.25);
  for (let i = 0; i < events; i++) engine.ingest(w.next());
  const after = used();
  const heap = after.heap - before.heap;
  const buffers = after.buffers - before.buffers;
  const parts = engine.memoryBreakdown();
  const stats = engine.layoutStats();
  const c = engine.counters();
  const pending = c.pendingSettlements + c.pendingTimeouts;
  const tracked = engine.keys(0).length;
  // window state: all but the pending-timer table and the dedup window, which scale with
  // approved auths per settlement deadline and with dedupCapacity, not with terminals
  const windowBytes = heap + parts.windowState;
  return {
    terminals: fmt(tracked),
    'events/terminal/h': String(perHour),
    events: fmt(events),
    'JS heap Δ': `${fmt(heap / 1e6, 1)} MB`,
    'ArrayBuffers Δ': `${fmt(buffers / 1e6, 1)} MB`,
    'window state B/terminal': fmt(windowBytes / tracked),
    'pending timers': fmt(pending),
    'B/pending timer': fmt(parts.pendingTimers / Math.max(1, pending), 1),
    'dedup window': `${fmt(parts.dedup / 1e6, 1)} MB`,
    'total B/terminal': fmt((heap + buffers) / tracked),
    'dense entities': fmt(stats.dense),
  };
}

const arg = process.argv[2];
if (arg) {
  const [terminals, perHour] = arg.split(':').map(Number) as [number, number];
  process.stdout.write(JSON.stringify(measure(terminals, perHour)));
} else {
  const { execFileSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const rows: Record<string, string>[] = [];
  for (const cfg of ['100000:6', '100000:30', '100000:60', '1000000:6', '1000000:30']) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), cfg],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    rows.push(JSON.parse(out) as Record<string, string>);
  }
  table(
    `engine memory after 75 min of event time, default config, one process per row (node ${process.version}); ` +
      `window state = JS heap Δ + entity slots + record arena + dense panes`,
    rows,
  );
}
