/**
 * Load check (printed, never asserted): 200 socket.io clients in 4 rooms (analysts, sre,
 * merchant:M-1, merchant:M-2) receiving rate rows and alert transitions at 1,000 events/s
 * over loopback. Delivery delay = receive time − the event's send time, per message per
 * client. Clients live in 2 child processes (100 each) so their decoding does not queue
 * behind the server's event loop. Reference in the same run: a bare socket.io server
 * emitting the same batches to the same rooms (no auth, no store, no seq), so the table
 * shows what the gateway adds.
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig } from './config';
import { syntheticAlert, syntheticRow } from './fixtures';
import { createGateway } from './gateway';
import { MemoryStore } from './memory-store';

const CLIENTS = 200;
const EVENTS_PER_SEC = 1000;
const TICK_MS = 10; // 100 ticks/s × (9 rows + 1 alert) = 1,000 events/s
const DURATION_MS = Number(process.env['BENCH_MS'] ?? 5000);
const AUDIENCES = ['analysts', 'sre', 'merchant:M-1', 'merchant:M-2'] as const;

const keys: ApiKeyEntry[] = [
  { key: 'bench-analyst-key-000000', role: 'analyst' },
  { key: 'bench-sre-key-0000000000', role: 'sre' },
  { key: 'bench-merchant-1-key-000', role: 'merchant', merchantId: 'M-1' },
  { key: 'bench-merchant-2-key-000', role: 'merchant', merchantId: 'M-2' },
];

interface Result {
  target: string;
  sentEvents: number;
  seconds: number;
  delivered: number;
  delays: Float64Array;
}

function makeEvents(tick: number, now: number) {
  const ts = new Date(now).toISOString();
  const rows = [];
  for (let i = 0; i < 9; i++) {
    const m = i % 2 ? 'M-1' : 'M-2';
    rows.push(
      syntheticRow({
        scope: 'terminal',
        key: `T-${m}-${i}`,
        merchantId: m,
        region: 'CN-31',
        ts,
        auths: 50 + (tick % 7),
      }),
    );
  }
  const alert = syntheticAlert({
    alertId: `bench-${tick}`,
    merchantId: tick % 2 ? 'M-1' : 'M-2',
    key: `T-${tick % 50}`,
    ts,
    lastSeen: ts,
    firstSeen: ts,
  });
  return { rows, alert };
}

const CHILDREN = 2;
const BATCH_MS = 50; // the gateway's default GATEWAY_RATES_BATCH_MS; the reference batches alike

/**
 * Child mode: `n` lean socket.io clients over raw WebSocket (engine.io v4 framing). A real
 * board parses every message; here 200 clients share 2 cores with the server, so they only
 * find each event's "ts" in the frame: what is measured is the server's delivery, not
 * JSON.parse in the load generator.
 */
async function childMain(url: string, auths: Record<string, string>[]): Promise<void> {
  const delays: number[] = [];
  const socks: WebSocket[] = [];
  const wsUrl = `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  await Promise.all(
    auths.map(
      (auth) =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(wsUrl);
          socks.push(ws);
          ws.on('error', reject);
          ws.on('message', (data: Buffer) => {
            const msg = data.toString();
            if (msg.startsWith('0'))
              ws.send(`40${JSON.stringify(auth)}`); // engine open → socket.io connect
            else if (msg === '2')
              ws.send('3'); // ping → pong
            else if (msg.startsWith('40')) resolve();
            else if (msg.startsWith('44')) reject(new Error(msg));
            else if (msg.startsWith('42')) {
              const now = Date.now();
              // every row of a rates batch and every alert is one delivered event
              for (let i = msg.indexOf('"ts":"'); i !== -1; i = msg.indexOf('"ts":"', i + 6)) {
                delays.push(now - Date.parse(msg.slice(i + 6, i + 30)));
              }
            }
          });
        }),
    ),
  );
  process.send?.({ ready: true });
  process.on('message', () => {
    socks.forEach((s) => s.close());
    process.send?.({ delays }, () => process.exit(0));
  });
}

interface Children {
  collect(): Promise<number[]>;
}
async function clients(
  url: string,
  auth: (i: number) => Record<string, string>,
): Promise<Children> {
  const per = CLIENTS / CHILDREN;
  const kids = Array.from({ length: CHILDREN }, (_, c) =>
    fork(fileURLToPath(import.meta.url), [
      'child',
      url,
      JSON.stringify(Array.from({ length: per }, (_, i) => auth(c * per + i))),
    ]),
  );
  await Promise.all(kids.map((k) => new Promise((r) => k.once('message', r))));
  return {
    async collect() {
      const parts = await Promise.all(
        kids.map(
          (k) =>
            new Promise<number[]>((resolve) => {
              k.once('message', (m: { delays: number[] }) => resolve(m.delays));
              k.send('stop');
            }),
        ),
      );
      return parts.flat();
    },
  };
}

async function drive(
  push: (tick: number, now: number) => void,
): Promise<{ sent: number; seconds: number }> {
  const start = Date.now();
  let tick = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      // catch up if the timer slipped, so the offered load stays at 1,000 events/s
      const due = Math.floor((Date.now() - start) / TICK_MS);
      while (tick < due) push(tick++, Date.now());
      if (Date.now() - start >= DURATION_MS) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await new Promise((r) => setTimeout(r, 500)); // drain
  return {
    sent: tick * (EVENTS_PER_SEC / (1000 / TICK_MS)),
    seconds: (Date.now() - start - 500) / 1000,
  };
}

async function runGateway(): Promise<Result> {
  const store = new MemoryStore();
  const gw = await createGateway({
    config: defaultGatewayConfig({
      apiKeys: keys,
      webDist: '/nonexistent',
      ratesBatchMs: BATCH_MS,
      socketsPerKey: CLIENTS, // 200 clients on 4 keys: the cap is not what this measures
    }),
    store,
  });
  const url = await gw.listen();
  const kids = await clients(url, (i) => ({ token: keys[i % 4]!.key }));
  const { sent, seconds } = await drive((tick, now) => {
    const { rows, alert } = makeEvents(tick, now);
    store.pushRates(rows);
    store.pushAlert(alert);
  });
  const delays = await kids.collect();
  await gw.close();
  return {
    target: 'gateway (auth, store, per-room seq)',
    sentEvents: sent,
    seconds,
    delivered: delays.length,
    delays: Float64Array.from(delays),
  };
}

async function runBare(): Promise<Result> {
  const http = createServer();
  const io = new Server(http, { serveClient: false });
  io.use((socket, next) => {
    void socket.join(String((socket.handshake.auth as { room?: string }).room));
    next();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const kids = await clients(url, (i) => ({ room: AUDIENCES[i % 4]! }));
  let pending: ReturnType<typeof makeEvents>['rows'] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const rows = pending;
    pending = [];
    io.to('analysts').emit('rates', { rows });
    io.to('sre').emit('rates', { rows });
    for (const m of ['M-1', 'M-2'])
      io.to(`merchant:${m}`).emit('rates', { rows: rows.filter((r) => r.merchantId === m) });
  };
  const { sent, seconds } = await drive((tick, now) => {
    const { rows, alert } = makeEvents(tick, now);
    pending.push(...rows);
    timer ??= setTimeout(flush, BATCH_MS);
    for (const room of ['analysts', 'sre', `merchant:${alert.merchantId}`])
      io.to(room).emit('alert', { alert });
  });
  const delays = await kids.collect();
  await io.close();
  return {
    target: 'bare socket.io (reference)',
    sentEvents: sent,
    seconds,
    delivered: delays.length,
    delays: Float64Array.from(delays),
  };
}

function pct(a: Float64Array, p: number): number {
  return a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))]! : NaN;
}

if (process.argv[2] === 'child') {
  await childMain(process.argv[3]!, JSON.parse(process.argv[4]!) as Record<string, string>[]);
} else {
  await main();
}

async function main(): Promise<void> {
  const results = process.env['BENCH_ONLY_GW']
    ? [await runGateway(), await runGateway()]
    : [await runBare(), await runGateway()];
  const rows = results.map((r) => {
    r.delays.sort();
    return {
      target: r.target,
      clients: CLIENTS,
      'events/s offered': Math.round(r.sentEvents / r.seconds),
      'events delivered': r.delivered,
      'events/s delivered': Math.round(r.delivered / r.seconds),
      'p50 ms': pct(r.delays, 0.5),
      'p99 ms': pct(r.delays, 0.99),
      'max ms': r.delays[r.delays.length - 1] ?? NaN,
    };
  });
  console.log(
    `\nsocket.io delivery, ${CLIENTS} clients in ${AUDIENCES.length} rooms, ${EVENTS_PER_SEC} events/s, ${DURATION_MS / 1000}s, loopback, one process`,
  );
  console.table(rows);
  const [bare, gw] = rows;
  console.log(
    `gateway/bare: p99 ×${(gw!['p99 ms'] / Math.max(1, bare!['p99 ms'])).toFixed(2)}, delivered ×${(gw!['events delivered'] / bare!['events delivered']).toFixed(2)}`,
  );
  process.exit(0);
}
