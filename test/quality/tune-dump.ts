import { createWriteStream, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { replay } from '@tillwatch/stream';
import { ENGINE, HELDOUT_SEEDS, RETIRED_SEEDS, TUNING_SEEDS } from './plan';
import { jsonl, weekSimulation } from './week';

/**
 * A tuning aid, not a test: one tuning seed's calendar week through replay, every alert
 * transition with its evidence (alerts-<seed>.jsonl), the week's labels (labels-<seed>.json) and
 * the events of the terminals of terminal- and merchant-scope incidents (events-<seed>.jsonl),
 * to read why a rule fired. `node --import tsx quality/tune-dump.ts <seed> [dir]` (a tuning or a
 * retired held-out seed). Refuses the held-out seeds (plan.ts): what tuning looks at must not be
 * what the verdict is computed on.
 */
const seed = Number(process.argv[2]);
const dir = process.argv[3] ?? tmpdir();
const open: readonly number[] = [...TUNING_SEEDS, ...RETIRED_SEEDS];
if (!open.includes(seed) || (HELDOUT_SEEDS as readonly number[]).includes(seed)) {
  console.error(
    `usage: tune-dump.ts <seed> [dir]; seed one of the tuning seeds or retired held-out seeds ${open.join(', ')}, never a held-out seed (${HELDOUT_SEEDS.join(', ')})`,
  );
  process.exit(64);
}
const sim = weekSimulation(seed);
const out = createWriteStream(join(dir, `alerts-${seed}.jsonl`));
// and the events of the terminals of terminal- and merchant-scope incidents, to read delays
const watched = new Set(
  sim.labels
    .filter((l) => l.scope === 'terminal' || l.scope === 'merchant')
    .flatMap((l) => l.terminals ?? []),
);
const evOut = createWriteStream(join(dir, `events-${seed}.jsonl`));
await replay(
  Readable.from(
    jsonl(sim, (ev) => {
      if (watched.has(ev.terminalId)) evOut.write(JSON.stringify(ev) + '\n');
    }),
  ),
  out,
  { engine: ENGINE },
);
evOut.end();
out.end();
await once(out, 'finish');
writeFileSync(join(dir, `labels-${seed}.json`), JSON.stringify(sim.labels));
console.log(`wrote ${join(dir, `alerts-${seed}.jsonl`)} and labels-${seed}.json`);
