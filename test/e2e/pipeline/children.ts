import type { Alert } from '@tillwatch/contracts';

/**
 * The processor as a child process (killable with SIGKILL), and checks on what it published.
 * Bundling and spawning live in @tillwatch/processor/under-load, which the processor's scale bench
 * uses too; re-exported here so the suites' imports stand.
 */
export {
  bundleProcessor,
  spawnProcessor,
  type ProcessorChild as ChildProcessor,
} from '@tillwatch/processor/under-load';

/** Small seeded generator (mulberry32) for reproducible kill points. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Alert transitions of one episode seen more than once, or an episode that fired twice. */
export function duplicatedEpisodes(alerts: readonly Alert[]): string[] {
  const seen = new Set<string>();
  const firstFiring = new Map<string, number>();
  const problems: string[] = [];
  for (const a of alerts) {
    const sig = `${a.alertId}|${a.status}|${a.ts}`;
    if (seen.has(sig)) problems.push(`transition twice: ${sig}`);
    seen.add(sig);
    if (a.status === 'firing' && a.ts === a.firstSeen) {
      const n = (firstFiring.get(a.alertId) ?? 0) + 1;
      firstFiring.set(a.alertId, n);
      if (n > 1) problems.push(`episode fired twice: ${a.alertId}`);
    }
  }
  // Two episodes of one rule/scope/key open at once would be a duplicate under another id.
  const open = new Map<string, string>();
  const sorted = [...alerts].sort((x, y) => Date.parse(x.ts) - Date.parse(y.ts));
  for (const a of sorted) {
    const k = `${a.rule}|${a.scope}|${a.key}`;
    if (a.status === 'firing') {
      const cur = open.get(k);
      if (cur !== undefined && cur !== a.alertId) problems.push(`overlapping episodes of ${k}`);
      open.set(k, a.alertId);
    } else if (open.get(k) === a.alertId) open.delete(k);
  }
  return problems;
}
