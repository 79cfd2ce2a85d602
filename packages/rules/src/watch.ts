import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { loadRulesFile, type RulesConfig } from './config';
import type { Monitor } from './monitor';

export interface RulesWatcher {
  close(): void;
}

export interface WatchRulesOptions {
  /** changes within this window are applied once (editors write in several steps); default 200 ms */
  debounceMs?: number;
  /** called with the new rules after they are in force */
  onReload?(rules: RulesConfig): void;
}

/**
 * Reload a rules file at run time, without a restart. The directory is watched (an editor or
 * `kubectl cp` replaces the file, which a watch on the file itself would lose). A file that
 * does not parse or validate is refused: onError gets the reason, the old rules stay in force.
 */
export function watchRulesFile(
  path: string,
  monitor: Pick<Monitor, 'setRules'>,
  onError: (err: Error) => void,
  opts: WatchRulesOptions = {},
): RulesWatcher {
  const full = resolve(path);
  const name = basename(full);
  const debounceMs = opts.debounceMs ?? 200;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const apply = () => {
    timer = undefined;
    if (closed) return;
    try {
      const rules = loadRulesFile(full);
      monitor.setRules(rules);
      opts.onReload?.(rules);
    } catch (e) {
      onError(e as Error);
    }
  };
  const watcher: FSWatcher = watch(dirname(full), (_event, file) => {
    if (file !== null && file !== name) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(apply, debounceMs);
  });
  watcher.on('error', (e) => onError(e));
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
