import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** Alerts from a JSON-lines file, one per line; blank lines skipped, bad JSON passed on as text. */
export async function* jsonlAlerts(path: string): AsyncGenerator<unknown> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    try {
      yield JSON.parse(line) as unknown;
    } catch {
      yield line; // the notifier counts it as invalid rather than losing track of it
    }
  }
}
