import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES, eventToRow, sql } from '@tillwatch/clickhouse';
import type { TerminalEvent } from '@tillwatch/contracts';
import { createStore, type Processor } from '@tillwatch/processor';
import { createSuiteProcessor, createTopics, env, pipelineSuite, sleep } from './harness';

/**
 * What the README promises of a running processor, held to it: the rules file is followed
 * without a restart (a bad edit refused, the rules in force kept, every attempt counted with the
 * file's sha256), and retention drops old day partitions on its own schedule.
 */
describe('a running processor: rules reload and retention', () => {
  const suite = pipelineSuite('ops');
  const { topics, db } = suite;
  const dir = mkdtempSync(path.join(tmpdir(), 'tw-ops-'));
  const rulesFile = path.join(dir, 'rules.json');
  const DAY = 86_400_000;
  const now = Date.now();
  let processor: Processor;
  const sha = () => createHash('sha256').update(readFileSync(rulesFile)).digest('hex');
  const metrics = () =>
    fetch(`http://127.0.0.1:${processor.metricsPort}/metrics`).then((r) => r.text());
  const reloads = (text: string, outcome: string) =>
    Number(
      new RegExp(`tw_processor_rules_reloads_total\\{outcome="${outcome}"\\} (\\d+)`).exec(
        text,
      )?.[1] ?? 0,
    );
  const inForce = (text: string) =>
    /tw_processor_rules_info\{sha256="([0-9a-f]+|defaults)"\} 1/.exec(text)?.[1];

  const store = createStore({ url: env('CLICKHOUSE_URL'), database: db });
  const event = (i: number, ts: number): TerminalEvent => ({
    type: 'auth',
    eventId: `old-${i}`,
    ts,
    terminalId: 'T1',
    merchantId: 'M1',
    region: 'CN-31',
    txnId: `x${i}`,
    amount: 100,
    currency: 'CNY',
    responseCode: '00',
  });
  const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
  const eventDays = async () =>
    (
      await store.ch.query<{ partition: string }>(
        sql`SELECT DISTINCT partition FROM system.parts
          WHERE database = ${db} AND table = ${TABLES.events} AND active ORDER BY partition`,
      )
    ).map((r) => r.partition);

  beforeAll(async () => {
    await createTopics(suite.kafka, Object.values(topics));
    writeFileSync(rulesFile, JSON.stringify({ evaluateEvery: '10s' }));
    // The tables as the processor makes them, with raw events of 200 days ago and of yesterday.
    await store.migrate();
    for (const [i, ts] of [now - 200 * DAY, now - DAY].entries()) {
      await store.ch.insert(TABLES.events, [
        eventToRow({ event: event(i, ts), raw: '{}', partition: 0, offset: i }),
      ]);
    }
    expect(await eventDays()).toEqual([dayOf(now - 200 * DAY), dayOf(now - DAY)].sort());
    processor = createSuiteProcessor(suite, {
      instance: 'ops',
      logLevel: 'warn',
      extra: { RULES_FILE: rulesFile, RETENTION: 'events_raw=30d' },
    });
    await processor.start();
  }, 300_000);
  afterAll(async () => {
    await processor?.stop();
    await store.close();
  });

  it('retention drops the day partitions past their period at start, keeps the recent', async () => {
    const deadline = Date.now() + 60_000;
    while ((await eventDays()).length > 1 && Date.now() < deadline) await sleep(250);
    expect(await eventDays()).toEqual([dayOf(now - DAY)]);
  });

  it('a changed rules file is in force without a restart; a bad one is refused and the rules stay', async () => {
    let text = await metrics();
    expect(inForce(text)).toBe(sha());
    const applied = reloads(text, 'applied');

    writeFileSync(rulesFile, JSON.stringify({ evaluateEvery: '30s', hold: '5m' }));
    const good = sha();
    const deadline = Date.now() + 30_000;
    while (inForce((text = await metrics())) !== good && Date.now() < deadline) await sleep(100);
    expect(inForce(text)).toBe(good);
    expect(reloads(text, 'applied')).toBe(applied + 1);

    writeFileSync(rulesFile, JSON.stringify({ evaluateEvery: 5, rules: { nope: {} } }));
    while (reloads((text = await metrics()), 'refused') < 1 && Date.now() < deadline + 30_000)
      await sleep(100);
    expect(reloads(text, 'refused')).toBe(1);
    // the good set is still the one in force
    expect(inForce(text)).toBe(good);
    expect(reloads(text, 'applied')).toBe(applied + 1);
  });
});
