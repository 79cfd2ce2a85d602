import type {
  ClientToServerEvents,
  ServerToClientEvents,
  SocketAuthError,
} from '@tillwatch/contracts';
import { io, type Socket } from 'socket.io-client';
import type { Api } from './api';
import { SeqTracker, type BoardState } from './state';

export type LiveStatus = 'live' | 'reconnecting' | 'offline';

/**
 * The socket.io link. On connect it loads a REST snapshot unless socket.io recovered the
 * session (then the missed messages are replayed); a seq gap also triggers a snapshot.
 */
export class Live {
  /** typed by the gateway's socket contract (@tillwatch/contracts, socket.ts) */
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly seq = new SeqTracker();
  private resyncing: Promise<void> | undefined;
  status: LiveStatus = 'reconnecting';
  snapshots = 0;
  /** when the board last heard from the gateway (epoch ms; 0: not yet) */
  lastHeard = 0;

  constructor(
    key: string,
    private readonly api: Api,
    private readonly state: BoardState,
    private window: () => string,
    private readonly changed: () => void,
  ) {
    this.socket = io({ auth: { token: key }, transports: ['websocket', 'polling'] });
    this.socket.on('connect', () => {
      this.status = 'live';
      this.lastHeard = Date.now();
      if (!this.socket.recovered) void this.resync();
      this.changed();
    });
    this.socket.on('disconnect', (reason) => {
      this.status = 'reconnecting';
      // socket.io reconnects by itself except after the server's own disconnect (a gateway
      // shedding its sockets at shutdown): then the board asks again, and the gateway's
      // auth says whether it may
      if (reason === 'io server disconnect') setTimeout(() => this.socket.connect(), 1000);
      this.changed();
    });
    this.socket.on('connect_error', (err: Error & { data?: SocketAuthError }) => {
      this.status = err.message === 'unauthorized' ? 'offline' : 'reconnecting';
      // A refusal is final for socket.io (it does not reconnect after a middleware error): past
      // the gateway's limits (429) the board tries again when it is told it may.
      if (err.data?.status === 429) {
        const wait = Math.max(1, err.data.retryAfter ?? 5) * 1000;
        setTimeout(() => this.socket.connect(), wait);
      }
      this.changed();
    });
    this.socket.on('rates', (m) => {
      this.lastHeard = Date.now();
      if (this.admit(m.room, m.seq)) this.state.applyRows(m.rows);
    });
    this.socket.on('alert', (m) => {
      if (this.admit(m.room, m.seq)) {
        this.state.applyAlert({
          alert: m.alert,
          workflow: m.workflow,
          ...(m.silencedBy ? { silencedBy: m.silencedBy } : {}),
        });
      }
    });
    this.socket.on('audit', (m) => {
      if (this.admit(m.room, m.seq)) this.state.applyAudit(m.alertId, m.entry, m.workflow);
    });
  }

  private admit(room: string, seq: number): boolean {
    const r = this.seq.check(room, seq);
    if (r.gap) void this.resync();
    if (r.accept) this.changed();
    return r.accept;
  }

  /** Reload the snapshot (e.g. after a long disconnect, a seq gap or a window change). */
  resync(): Promise<void> {
    this.resyncing ??= this.api
      .snapshot(this.window())
      .then((s) => {
        this.state.load(s);
        this.seq.reset(s.seq);
        this.snapshots++;
        this.changed();
      })
      .catch(() => undefined)
      .finally(() => {
        this.resyncing = undefined;
      });
    return this.resyncing;
  }

  close(): void {
    this.socket.close();
  }
}
