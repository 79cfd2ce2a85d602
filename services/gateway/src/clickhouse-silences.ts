import { randomUUID } from 'node:crypto';
import {
  deleteSilences,
  listSilences as chListSilences,
  upsertSilences,
  type ClickHouse,
} from '@tillwatch/clickhouse';
import { silenceInForce } from '@tillwatch/contracts';
import type { Silence, SilenceInput } from './store';

/**
 * Silences in ClickHouse for ClickHouseStore: the writes, and the current list kept in memory
 * (re-read after each write and on the store's refresh timer) for the alerts it annotates.
 */
export class ClickHouseSilences {
  private readonly listeners = new Set<(s: readonly Silence[]) => void>();
  private silences: Silence[] = [];
  private silencesKey = '';
  private silenceVersion = 0;

  constructor(
    private readonly ch: ClickHouse,
    private readonly now: () => number,
  ) {}

  /** The list as of the last refresh. */
  get current(): readonly Silence[] {
    return this.silences;
  }

  async list(opts: { activeAt?: number } = {}): Promise<Silence[]> {
    const all = (await chListSilences(this.ch, opts)) as Silence[];
    // ClickHouse selected those whose range holds activeAt; a daily window may be closed
    const t = opts.activeAt;
    return t === undefined ? all : all.filter((s) => silenceInForce(s, t));
  }

  async get(id: string): Promise<Silence | undefined> {
    return (await chListSilences(this.ch, { ids: [id] }))[0] as Silence | undefined;
  }

  async create(input: SilenceInput, createdBy: string): Promise<Silence> {
    const s: Silence = {
      ...input,
      id: randomUUID(),
      createdBy,
      createdAt: new Date(this.now()).toISOString(),
    };
    await upsertSilences(this.ch, [s], this.nextSilenceVersion());
    await this.refresh();
    return s;
  }

  async update(id: string, input: SilenceInput): Promise<Silence | undefined> {
    const old = await this.get(id);
    if (!old) return undefined;
    // the input replaces the silence whole: a recurrence left out of it is gone
    const s: Silence = { ...input, id, createdBy: old.createdBy, createdAt: old.createdAt };
    await upsertSilences(this.ch, [s], this.nextSilenceVersion());
    await this.refresh();
    return s;
  }

  async delete(id: string): Promise<boolean> {
    const old = await this.get(id);
    if (!old) return false;
    await deleteSilences(this.ch, [old], this.nextSilenceVersion());
    await this.refresh();
    return true;
  }

  onChanged(listener: (silences: readonly Silence[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads the list; tells the listeners when it changed. */
  async refresh(): Promise<void> {
    const all = await this.list();
    const key = JSON.stringify(all);
    this.silences = all;
    if (key === this.silencesKey) return;
    this.silencesKey = key;
    for (const l of this.listeners) l(all);
  }

  clearListeners(): void {
    this.listeners.clear();
  }

  /** Later writers win, also across gateways: µs of the wall clock, strictly increasing here. */
  private nextSilenceVersion(): number {
    this.silenceVersion = Math.max(this.silenceVersion + 1, this.now() * 1000);
    return this.silenceVersion;
  }
}
