import { MEMORY_VERSION } from '@tillwatch/rules';
import type { StageMemory } from './types';

/**
 * A file of rules memory (`tillwatch replay --profiles`, `--save-profiles`, the embedded start's
 * state directory): the latest memory of each stage and partition, as JSON.
 */
export interface MemoryFile {
  v: typeof MEMORY_VERSION;
  memories: StageMemory[];
}

/** Keeps the latest memory of each stage and partition as they are taken. */
export class LatestMemory {
  private readonly latest = new Map<string, StageMemory>();

  take(m: StageMemory): void {
    this.latest.set(`${m.stage}:${m.partition}`, m);
  }

  get size(): number {
    return this.latest.size;
  }

  list(): StageMemory[] {
    return [...this.latest.values()].sort((a, b) =>
      a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : a.partition - b.partition,
    );
  }

  toJSON(): MemoryFile {
    return { v: MEMORY_VERSION, memories: this.list() };
  }
}

/** Parse a memory file; throws with a reason a person can read. */
export function parseMemoryFile(text: string, source = 'profiles'): StageMemory[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON: ${(e as Error).message}`);
  }
  const f = value as Partial<MemoryFile>;
  if (typeof f !== 'object' || f === null || f.v !== MEMORY_VERSION || !Array.isArray(f.memories)) {
    throw new Error(`${source}: not a rules memory file of version ${MEMORY_VERSION}`);
  }
  for (const [i, m] of f.memories.entries()) {
    const ok =
      (m?.stage === 'events' || m?.stage === 'rollup') &&
      Number.isInteger(m.partition) &&
      Number.isInteger(m.partitions) &&
      Number.isFinite(m.at) &&
      m.memory?.v === MEMORY_VERSION &&
      Array.isArray(m.memory.terminals);
    if (!ok) throw new Error(`${source}: memories[${i}] is not a stage memory`);
  }
  return f.memories;
}
