import type { Logger } from '@tillwatch/config';
import type { ClickHouse } from './client';
import { DAY_PARTITIONED_TABLES, applyRetention, type RetentionPass } from './retention';
import { TABLES } from './schema';

export type RetentionTable = (typeof DAY_PARTITIONED_TABLES)[number];
/** Days to keep per table; a table left out (or undefined) is never dropped from. */
export type RetentionPolicy = Partial<Record<RetentionTable, number>>;

/**
 * Kept by default. Raw events and pane counts are the bulk (~1.4 pane rows per event): a month
 * of drill-down and charts; window_stats is no longer written and goes as its days age out.
 * Alerts and their audit trail are few rows and are what an incident review asks for months
 * later. Webhook deliveries and attempts: a month of delivery log, far
 * above the 8-day floor below.
 */
export const DEFAULT_RETENTION_DAYS: Readonly<Record<RetentionTable, number>> = {
  [TABLES.events]: 30,
  [TABLES.rates]: 30,
  [TABLES.panes]: 30,
  [TABLES.alerts]: 180,
  [TABLES.alertActions]: 180,
  [TABLES.deadLetters]: 30,
  [TABLES.webhookDeliveries]: 30,
  [TABLES.webhookAttempts]: 30,
  // a restart reads the last hours; the rest is for a backtest's --profiles
  [TABLES.rulesMemory]: 14,
};

/**
 * Shortest retention per table. The webhook store reads pending work 8 days back (a 7-day log
 * plus the ~28 h retry schedule): dropping sooner would lose deliveries still being retried.
 * Everything else: at least one whole day, so a policy of "0d" cannot empty a table of
 * yesterday's rows by a typo.
 */
export const MIN_RETENTION_DAYS: Readonly<Record<RetentionTable, number>> = {
  [TABLES.events]: 1,
  [TABLES.rates]: 1,
  [TABLES.panes]: 1,
  [TABLES.alerts]: 1,
  [TABLES.alertActions]: 1,
  [TABLES.deadLetters]: 1,
  [TABLES.webhookDeliveries]: 8,
  [TABLES.webhookAttempts]: 8,
  [TABLES.rulesMemory]: 1,
};

const isRetentionTable = (t: string): t is RetentionTable =>
  (DAY_PARTITIONED_TABLES as readonly string[]).includes(t);

/**
 * Parse `events_raw=30d,window_stats=14d,alerts=off` over the defaults: tables not named keep
 * their default, `off` keeps a table forever. Whole days only, since retention drops whole day
 * partitions. Throws an Error whose message says what is wrong (a config schema reports it under
 * its variable's name).
 */
export function parseRetentionPolicy(
  text: string,
  defaults: Readonly<RetentionPolicy> = DEFAULT_RETENTION_DAYS,
): RetentionPolicy {
  const out: RetentionPolicy = { ...defaults };
  const seen = new Set<string>();
  for (const item of text.split(',').map((s) => s.trim())) {
    if (!item) continue;
    const m = /^([A-Za-z_]+)\s*=\s*(?:(\d{1,5})d|(off))$/.exec(item);
    if (!m) throw new Error(`"${item}": use table=<days>d or table=off, e.g. events_raw=30d`);
    const table = m[1]!;
    if (!isRetentionTable(table))
      throw new Error(
        `"${table}" has no day partitions to drop; tables: ${DAY_PARTITIONED_TABLES.join(', ')}`,
      );
    if (seen.has(table)) throw new Error(`${table} is given twice`);
    seen.add(table);
    if (m[3]) {
      delete out[table];
      continue;
    }
    const days = Number(m[2]);
    if (days < MIN_RETENTION_DAYS[table])
      throw new Error(
        `${table}=${days}d is below its minimum of ${MIN_RETENTION_DAYS[table]}d` +
          (MIN_RETENTION_DAYS[table] > 1
            ? ' (the webhook store reads pending work 8 days back)'
            : ''),
      );
    out[table] = days;
  }
  return out;
}

export type { RetentionPass };

export interface RetentionScheduleOptions {
  policy: RetentionPolicy;
  /** Between the end of one pass and the start of the next. */
  everyMs: number;
  logger?: Logger;
  /** Clock for the cutoffs (tests). */
  now?: () => number;
  /** Called after every pass, successful or not (tests, metrics). */
  onPass?: (pass: RetentionPass) => void;
}

// setTimeout fires at once (with a warning) for delays above 2^31 - 1 ms, ~24.8 days.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * applyRetention(policy) now and then every `everyMs`, until the returned stop() is called. A
 * table that fails is logged and tried again next pass; the others still run. Nothing thrown
 * escapes the timer. Passes never
 * overlap: the next one is scheduled when the previous has finished. The timer is unref'd, so
 * it never keeps a process alive by itself.
 *
 * stop() cancels the next pass and waits for one in progress to finish, so the caller may close
 * the ClickHouse client right after.
 */
export function startRetention(
  ch: ClickHouse,
  opts: RetentionScheduleOptions,
): () => Promise<void> {
  const { policy, everyMs, logger } = opts;
  if (!Number.isInteger(everyMs) || everyMs < 1 || everyMs > MAX_TIMER_MS)
    throw new Error(`retention interval must be 1..${MAX_TIMER_MS} ms, got ${everyMs}`);
  for (const [table, days] of Object.entries(policy)) {
    if (!isRetentionTable(table)) throw new Error(`${table} has no day partitions to drop`);
    if (days !== undefined && (!Number.isInteger(days) || days < 0))
      throw new Error(`retention of ${table} must be a whole number of days, got ${days}`);
  }
  const now = opts.now ?? Date.now;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const pass = async (): Promise<void> => {
    const result = await applyRetention(ch, policy, now(), () => stopped);
    for (const [table, dropped] of Object.entries(result.dropped))
      if (dropped.length)
        logger?.info(
          { table, days: policy[table as RetentionTable], partitions: dropped },
          'retention: dropped old partitions',
        );
    for (const [table, err] of Object.entries(result.failed))
      logger?.warn(
        { table, days: policy[table as RetentionTable], err: err.message },
        'retention: dropping old partitions failed; next pass retries',
      );
    logger?.debug({ dropped: result.dropped }, 'retention pass done');
    try {
      opts.onPass?.(result);
    } catch (e) {
      logger?.warn({ err: (e as Error).message }, 'retention: onPass threw');
    }
  };

  const run = () => {
    timer = undefined;
    // pass() handles its own failures; the catch is for a logger that throws.
    running = pass()
      .catch(() => {})
      .finally(() => {
        running = undefined;
        if (!stopped) {
          timer = setTimeout(run, everyMs);
          timer.unref();
        }
      });
  };
  run();

  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
    await running;
  };
}
