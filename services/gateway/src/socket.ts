import {
  regionRequestSchema,
  type AlertMessage,
  type AuditMessage,
  type ClientToServerEvents as ClientToServer,
  type RateRow,
  type RatesMessage,
  type ServerEvent,
  type ServerToClientEvents as ServerToClient,
} from '@tillwatch/contracts';
import type { Server, Socket } from 'socket.io';
import type { Principal } from './auth';
import type { AlertRecord, GatewayStore, StoreEvent } from './store';

/**
 * Payloads on the wire are the contract's (packages/contracts/src/socket.ts), shared with the
 * dashboard. `seq` grows by one per message in `room`; a gap means "refetch".
 */
export type { AlertMessage, AuditMessage, ClientToServer, RatesMessage, ServerToClient };

export interface SocketData {
  principal: Principal;
}
export type GatewayIo = Server<ClientToServer, ServerToClient, Record<string, never>, SocketData>;

/** The one room a principal's role puts it in; decided on the server, never by the client. */
export function audienceRoom(p: Principal): string {
  switch (p.role) {
    case 'merchant':
      return `merchant:${p.merchantId}`;
    case 'sre':
      return 'sre';
    case 'analyst':
    case 'admin':
      return 'analysts';
  }
}

export interface BroadcastCounters {
  onMessage?: (event: ServerEvent, room: string) => void;
  onClients?: (n: number) => void;
}

/**
 * Turns store events into room broadcasts: staff rooms get everything; `merchant:<id>` only
 * rows and alerts carrying that merchantId; `region:<id>` only that region's. Each emit is
 * encoded once per room by socket.io, so 200 analysts cost one serialisation, not 200.
 */
export class Broadcaster {
  private readonly seqs = new Map<string, number>();
  /** when each room last had a member: a room emptied by a reconnecting board keeps getting
   * messages for the recovery window, so connection state recovery can replay them */
  private readonly lastMembers = new Map<string, number>();
  private readonly unsubscribe: () => void;
  /** rows waiting for the next batch: at 1,000 rows/s, 50 ms batches mean 20 messages/s per
   * room instead of one per push, and each client decodes 20 frames instead of hundreds */
  private pendingRows: RateRow[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly io: GatewayIo,
    store: GatewayStore,
    private readonly recoveryMs: number,
    private readonly ratesBatchMs: number,
    private readonly counters: BroadcastCounters = {},
  ) {
    // who may connect, and as whom: guardSockets (socket-auth.ts) sets socket.data.principal
    io.on('connection', (socket) => this.onConnection(socket));
    this.unsubscribe = store.subscribe((e) => this.onStoreEvent(e));
  }

  close(): void {
    this.unsubscribe();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** Current seq of every room this principal's board listens to (snapshot baseline). */
  seqFor(p: Principal): Record<string, number> {
    const room = audienceRoom(p);
    return { [room]: this.seqs.get(room) ?? 0 };
  }

  private onConnection(
    socket: Socket<ClientToServer, ServerToClient, Record<string, never>, SocketData>,
  ): void {
    const p = socket.data.principal;
    void socket.join(audienceRoom(p));
    this.counters.onClients?.(this.io.engine.clientsCount);
    socket.on('disconnect', () => this.counters.onClients?.(this.io.engine.clientsCount));
    socket.on('subscribe', (req, ack) => {
      const r = regionRequestSchema.safeParse(req);
      if (!r.success) return ack?.({ ok: false, error: 'bad_request: { region: <id> } expected' });
      // region rooms carry every merchant's terminals of the region: staff only
      if (p.role === 'merchant')
        return ack?.({ ok: false, error: 'forbidden: region rooms are staff only' });
      const room = `region:${r.data.region}`;
      void socket.join(room);
      ack?.({ ok: true, room });
    });
    socket.on('unsubscribe', (req, ack) => {
      const r = regionRequestSchema.safeParse(req);
      if (!r.success) return ack?.({ ok: false, error: 'bad_request' });
      void socket.leave(`region:${r.data.region}`);
      ack?.({ ok: true });
    });
  }

  private next(room: string): number {
    const n = (this.seqs.get(room) ?? 0) + 1;
    this.seqs.set(room, n);
    return n;
  }

  private listening(room: string): boolean {
    const now = Date.now();
    if ((this.io.of('/').adapter.rooms.get(room)?.size ?? 0) > 0) {
      this.lastMembers.set(room, now);
      return true;
    }
    const last = this.lastMembers.get(room);
    if (last === undefined) return false;
    if (now - last <= this.recoveryMs) return true;
    this.lastMembers.delete(room);
    return false;
  }

  private send(room: string, event: 'rates', payload: Omit<RatesMessage, 'room' | 'seq'>): void;
  private send(room: string, event: 'alert', payload: Omit<AlertMessage, 'room' | 'seq'>): void;
  private send(room: string, event: 'audit', payload: Omit<AuditMessage, 'room' | 'seq'>): void;
  private send(room: string, event: ServerEvent, payload: object): void {
    // rooms nobody listens to (thousands of merchants) cost nothing; seq grows only with
    // messages actually sent, so a board that joins later starts from the snapshot's seq
    if (!this.listening(room)) return;
    const msg = { room, seq: this.next(room), ...payload };
    (this.io.to(room).emit as (ev: string, m: unknown) => boolean)(event, msg);
    this.counters.onMessage?.(event, room);
  }

  private onStoreEvent(e: StoreEvent): void {
    switch (e.type) {
      case 'rates':
        if (this.ratesBatchMs === 0) return this.broadcastRates(e.rows);
        for (const r of e.rows) this.pendingRows.push(r);
        this.flushTimer ??= setTimeout(() => {
          this.flushTimer = undefined;
          const rows = this.pendingRows;
          this.pendingRows = [];
          this.broadcastRates(rows);
        }, this.ratesBatchMs);
        return;
      case 'alert': {
        const payload = {
          alert: e.record.alert,
          workflow: e.record.workflow,
          ...(e.record.silencedBy ? { silencedBy: e.record.silencedBy } : {}),
        };
        for (const room of alertRooms(e.record)) this.send(room, 'alert', payload);
        return;
      }
      case 'audit': {
        const payload = {
          alertId: e.record.alert.alertId,
          entry: e.entry,
          workflow: e.record.workflow,
        };
        for (const room of alertRooms(e.record)) this.send(room, 'audit', payload);
        return;
      }
    }
  }

  private broadcastRates(rows: RateRow[]): void {
    this.send('analysts', 'rates', { rows });
    this.send('sre', 'rates', { rows });
    const byMerchant = new Map<string, RateRow[]>();
    const byRegion = new Map<string, RateRow[]>();
    for (const r of rows) {
      // only terminal and merchant rows belong to one merchant; region/firmware/issuer/fleet
      // rows mix merchants and never go to a merchant room
      if ((r.scope === 'terminal' || r.scope === 'merchant') && r.merchantId !== undefined) {
        push(byMerchant, r.merchantId, r);
      }
      const region = r.scope === 'region' ? r.key : r.region;
      if (region !== undefined && r.scope !== 'fleet') push(byRegion, region, r);
    }
    for (const [m, rs] of byMerchant) this.send(`merchant:${m}`, 'rates', { rows: rs });
    for (const [g, rs] of byRegion) this.send(`region:${g}`, 'rates', { rows: rs });
  }
}

function alertRooms(rec: AlertRecord): string[] {
  const a = rec.alert;
  const rooms = ['analysts', 'sre'];
  if (a.merchantId !== undefined) rooms.push(`merchant:${a.merchantId}`);
  const region = a.scope === 'region' ? a.key : a.region;
  if (region !== undefined) rooms.push(`region:${region}`);
  return rooms;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}
