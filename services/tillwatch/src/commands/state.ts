import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Logger } from '@tillwatch/config';
import type { Alert, TerminalEvent } from '@tillwatch/contracts';
import { CAT, DEFAULT_ENGINE_CONFIG } from '@tillwatch/core';
import { boardSettingsSchema, type BoardSettings } from '@tillwatch/gateway';
import { LatestMemory, parseMemoryFile, type HeldAlert, type StageMemory } from '@tillwatch/stream';

/**
 * The embedded start's state directory (TILLWATCH_STATE_DIR): what lets `tillwatch start` stop
 * and start again without forgetting what its rules learnt and without paging twice.
 *
 * - `memory.json`: the latest rules memory of every stage and partition (a `tillwatch replay
 *   --profiles` file), rewritten atomically (temp file, fsync, rename) whenever a stage takes
 *   one, at every hour boundary of event time.
 * - `source.json`: where the events come from: the simulated fleet's seed, size, start and the
 *   event time it had reached (rewritten every second), so a restart regenerates the same
 *   fleet and continues from that moment; or `events` (a fixed list, tests).
 * - `inflight.json`: written with each memory and at a stop, read and removed at the next start:
 *   the transitions the event stages had raised and the rollup stages not yet sent (each waits until the boundary
 *   it was raised at has closed on every partition). A stage restored from a memory at or after
 *   such a transition's time does not raise it again, so the start hands it back to the rollup
 *   stage; it was lost before (a resolve a minute before the hour, when the stop came after its
 *   stage's memory of the hour and before the rollup stage's).
 * - `alerts.jsonl`: every alert transition sent since the oldest memory's time, appended before
 *   it goes out. A restart replays the source from an hour before that memory (windows whole
 *   again) and the rules judge again from the memory's time; a transition already in this
 *   journal was sent before the stop and is not sent again.
 * - `board.json`: what people set on the board: its silences and the API keys admins made
 *   (each as its record and the SHA-256 of the secret, never the secret), rewritten atomically
 *   at each change, mode 0600. A start hands them back before the replay, so a silence mutes
 *   the replayed transitions as it muted them live (without it, a restart sent a silenced
 *   alert to the merchants' webhooks). Kept when another fleet's state is replaced: they are
 *   people's settings, not the fleet's.
 */
export const STATE_VARIABLE = 'TILLWATCH_STATE_DIR';
const MEMORY = 'memory.json' as const;
const SOURCE = 'source.json' as const;
const JOURNAL = 'alerts.jsonl';
const IN_FLIGHT = 'inflight.json';
const BOARD = 'board.json' as const;

/** What a restart needs to regenerate the events the previous run judged. */
export type SourceState =
  | {
      kind: 'simulated';
      seed: number;
      terminals: number;
      merchants: number;
      regions: number;
      partitions: number;
      /** the simulation's start and first demo incident (the fleet's clock depends on it) */
      start: number;
      firstAt: number;
      /** event time the fleet had reached: a restart continues from here */
      position: number;
    }
  | { kind: 'events'; partitions: number };

export interface SavedState {
  source?: SourceState;
  memories: StageMemory[];
  /** the transitions sent since the memory */
  sent: SentTransitions;
}

/**
 * What a transition says, without when: its episode, status, severity and confidence. A restart
 * judges again from the memory's time and raises the same transitions, but not always at the
 * same event time: the run before it closed some boundaries on its source's clock (`advance`),
 * the replay closes them on events, and a rule can see a few more or fewer events ahead of a
 * boundary (seen: the same firing sent again 10 s later, a merchant's webhook twice).
 */
export const transitionId = (
  a: Pick<Alert, 'alertId' | 'status' | 'severity' | 'confidence'>,
): string => `${a.alertId}|${a.status}|${a.severity}|${a.confidence ?? ''}`;

/**
 * The journal's transitions, counted by what they say: each one a restart raises again takes
 * one of its kind (an episode's update telling the same severity twice, after its evidence
 * grew, is two), so what the run before did not send still goes out.
 */
export class SentTransitions {
  private readonly counts = new Map<string, number>();
  size = 0;

  add(a: Pick<Alert, 'alertId' | 'status' | 'severity' | 'confidence'>): void {
    const id = transitionId(a);
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    this.size++;
  }

  /** true when the journal holds this transition (sent before the restart): taken from it */
  take(a: Pick<Alert, 'alertId' | 'status' | 'severity' | 'confidence'>): boolean {
    const id = transitionId(a);
    const n = this.counts.get(id) ?? 0;
    if (n === 0) return false;
    if (n === 1) this.counts.delete(id);
    else this.counts.set(id, n - 1);
    this.size--;
    return true;
  }
}

/** temp file, fsync, rename: a reader sees the old file or the new one, never half of one */
export function writeAtomic(file: string, text: string, mode = 0o644): void {
  const tmp = `${file}.tmp`;
  rmSync(tmp, { force: true }); // (a file left by a kill keeps its mode: made anew with this one)
  const fd = openSync(tmp, 'w', mode);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * Event time a restored topology replays from: the longest window, the allowed lateness, the
 * largest pane and a minute (the simulator delivers up to 4.4 s out of order) before the oldest
 * memory, as the processor's recovery does (REPLAY_MARGIN 1m).
 */
export function replayFrom(memories: readonly StageMemory[]): number {
  if (memories.length === 0) return Number.NEGATIVE_INFINITY;
  const c = DEFAULT_ENGINE_CONFIG;
  const span = Math.max(...c.windowsMs) + c.allowedLatenessMs + Math.max(...c.panesMs) + 60_000;
  return Math.min(...memories.map((m) => m.at)) - span;
}

const approved = new Set(
  [...DEFAULT_ENGINE_CONFIG.codeCategories].filter(([, c]) => c === CAT.approved).map(([k]) => k),
);
/**
 * An event before the replay that settlements due later still need (the processor's recovery
 * reads the same ones back from ClickHouse): approved auths, reversals, settlements within one
 * settlement deadline.
 */
export function settles(ev: TerminalEvent, before: number): boolean {
  return (
    ev.ts >= before - DEFAULT_ENGINE_CONFIG.settlementDeadlineMs &&
    (ev.type === 'settlement' ||
      ev.type === 'reversal' ||
      (ev.type === 'auth' && approved.has(ev.responseCode)))
  );
}

export class StateDir {
  readonly latest = new LatestMemory();
  private dirty = false;
  private writeFailed = false;

  private constructor(
    readonly dir: string,
    private readonly log: Logger,
    private readonly stages: number,
  ) {}

  /**
   * Opens (creates) the directory; one that cannot be written is a configuration error.
   * `stages`: how many stages take memories (events and rollup partitions).
   */
  static open(dir: string, log: Logger, stages: number): StateDir {
    try {
      mkdirSync(dir, { recursive: true });
      writeAtomic(join(dir, '.probe'), 'ok');
      rmSync(join(dir, '.probe'));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ConfigError([
        {
          variable: STATE_VARIABLE,
          message: `cannot write the state directory ${dir} (${err.code ?? err.message}): set it to a writable directory, or to off to keep no state`,
        },
      ]);
    }
    return new StateDir(dir, log, stages);
  }

  private path(name: string): string {
    return join(this.dir, name);
  }

  /**
   * What the last run left. A memory or source file that cannot be read is set aside
   * (`<file>.unreadable`) with a warning: the run then rebuilds from its source's beginning
   * (memory) or starts afresh (source).
   */
  read(): SavedState {
    const out: SavedState = { memories: [], sent: new SentTransitions() };
    const source = this.readFile(SOURCE, (text) => {
      const s = JSON.parse(text) as SourceState;
      if (s.kind !== 'simulated' && s.kind !== 'events') throw new Error('unknown source kind');
      return s;
    });
    if (source) out.source = source;
    out.memories = this.readFile(MEMORY, (t) => parseMemoryFile(t, this.path(MEMORY))) ?? [];
    if (existsSync(this.path(JOURNAL))) {
      for (const line of readFileSync(this.path(JOURNAL), 'utf8').split('\n')) {
        if (!line) continue;
        try {
          out.sent.add(JSON.parse(line) as Alert);
        } catch {
          // a line cut by a kill mid-write: its transition was not sent (appended before)
        }
      }
    }
    return out;
  }

  /** The board's settings the last run kept; one that cannot be read is set aside. */
  readBoard(): BoardSettings | undefined {
    return this.readFile(BOARD, (text) => boardSettingsSchema.parse(JSON.parse(text)));
  }

  writeBoard(board: BoardSettings): void {
    this.guard(() => writeAtomic(this.path(BOARD), JSON.stringify(board) + '\n', 0o600));
  }

  private readFile<T>(
    name: typeof MEMORY | typeof SOURCE | typeof BOARD,
    parse: (text: string) => T,
  ): T | undefined {
    const file = this.path(name);
    if (!existsSync(file)) return undefined;
    try {
      return parse(readFileSync(file, 'utf8'));
    } catch (e) {
      this.setAside(name, (e as Error).message);
      return undefined;
    }
  }

  /** A file this run cannot use: kept for a person to look at, out of the way of the next. */
  setAside(name: typeof MEMORY | typeof SOURCE | typeof BOARD, reason: string): void {
    const file = this.path(name);
    renameSync(file, `${file}.unreadable`);
    this.log.warn(
      { file, movedTo: `${file}.unreadable`, reason },
      name === MEMORY
        ? 'rules memory unreadable: set aside; rebuilding from the start of the source'
        : name === BOARD
          ? 'board settings unreadable: set aside; starting without the silences and API keys made on the board'
          : 'state source unreadable: set aside; starting afresh',
    );
  }

  /** A new start: the previous run's memory and journal are of another source. */
  reset(source: SourceState): void {
    rmSync(this.path(MEMORY), { force: true });
    rmSync(this.path(JOURNAL), { force: true });
    rmSync(this.path(IN_FLIGHT), { force: true });
    this.writeSource(source);
  }

  writeSource(source: SourceState): void {
    this.guard(() => writeAtomic(this.path(SOURCE), JSON.stringify(source) + '\n'));
  }

  /**
   * What the last run had in flight at its stop or, killed, at its last memory; the file is
   * removed (this run writes its own).
   */
  takeInFlight(): HeldAlert[] {
    const file = this.path(IN_FLIGHT);
    if (!existsSync(file)) return [];
    let out: HeldAlert[] = [];
    try {
      const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (!Array.isArray(v)) throw new Error('not a list');
      out = v as HeldAlert[];
    } catch (e) {
      this.log.warn(
        { file, reason: (e as Error).message },
        'in-flight transitions unreadable: ignored (those not raised again are not sent)',
      );
    }
    this.guard(() => rmSync(file, { force: true }));
    return out;
  }

  /** At a stop: the transitions raised and not sent yet (LocalTopology.inFlight). */
  writeInFlight(held: readonly HeldAlert[]): void {
    this.guard(() => writeAtomic(this.path(IN_FLIGHT), JSON.stringify(held) + '\n'));
  }

  /** A transition about to go out: in the journal first, so a restart does not send it again. */
  sent(a: Alert): void {
    this.guard(() => appendFileSync(this.path(JOURNAL), JSON.stringify(a) + '\n'));
  }

  take(m: StageMemory): void {
    this.latest.take(m);
    this.dirty = true;
  }

  /**
   * Writes the memory when a stage took a new one, then drops from the journal the transitions
   * a restart cannot raise again: those at or before the oldest memory's time, when every
   * stage has a memory (a restored stage judges nothing before its own). While some stage has
   * none yet (the first hour crossed by some partitions and not by others) that stage judges
   * again from the replay's start, an hour and more before: the journal keeps what it sent
   * since then. (It kept only what came after the others' memory, and a restart stopped in
   * between sent that stage's firings of the hour again: seen once in CI, start.state.test.ts.)
   */
  flush(inFlight?: () => readonly HeldAlert[]): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.guard(() => {
      // What is in flight at this memory, before it: a run killed before its stop restarts from
      // this memory, and the stages restored from it do not raise those again. (Written first: a
      // kill between the two leaves the older memory, whose stages raise them again and are
      // handed back none they raise.)
      if (inFlight) writeAtomic(this.path(IN_FLIGHT), JSON.stringify(inFlight()) + '\n');
      writeAtomic(this.path(MEMORY), JSON.stringify(this.latest) + '\n');
      const memories = this.latest.list();
      const oldest =
        memories.length >= this.stages
          ? Math.min(...memories.map((m) => m.at))
          : replayFrom(memories);
      const file = this.path(JOURNAL);
      if (!existsSync(file)) return;
      const keep = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => {
          if (!l) return false;
          try {
            return Date.parse((JSON.parse(l) as Alert).ts) > oldest;
          } catch {
            return false;
          }
        });
      writeAtomic(file, keep.map((l) => l + '\n').join(''));
    });
  }

  /** A write that fails later (disk full) is logged once; the run goes on with older state. */
  private guard(write: () => void): void {
    try {
      write();
      if (this.writeFailed) this.log.info({ dir: this.dir }, 'state written again');
      this.writeFailed = false;
    } catch (e) {
      if (!this.writeFailed)
        this.log.error(
          { err: e, dir: this.dir },
          'state write failed: a restart would use older state',
        );
      this.writeFailed = true;
    }
  }
}
