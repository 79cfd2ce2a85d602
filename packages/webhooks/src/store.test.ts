import { mkdtempSync, readFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalWebhookStore } from './journal-store';
import { MemoryWebhookStore } from './store';
import { BASE, behaves, nd, sub } from './store-contract';

const dir = mkdtempSync(join(tmpdir(), 'tw-webhooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('MemoryWebhookStore', () => {
  it('dedups by id, orders per subscription+alert, records attempts', async () => {
    await behaves(new MemoryWebhookStore());
  });
});

describe('JournalWebhookStore', () => {
  it('behaves like the memory store and survives a reopen', async () => {
    const path = join(dir, 'a', 'webhooks.journal');
    const s1 = await JournalWebhookStore.open(path, { now: () => BASE + 5000 });
    await behaves(s1);
    // no close(): what is acknowledged must already be on disk (as after kill -9)
    const s2 = await JournalWebhookStore.open(path, { now: () => BASE + 5000 });
    expect(s2.stats.replayed).toBeGreaterThan(0);
    expect((await s2.getSubscription('sub_1'))?.language).toBe('zh');
    expect((await s2.listDeliveries({})).map((d) => [d.id, d.status])).toEqual([
      ['d1', 'delivered'],
      ['d2', 'pending'],
      ['d3', 'cancelled'],
    ]);
    expect(await s2.listAttempts('d1')).toHaveLength(1);
    // ids and sequence continue after the reopen
    expect(await s2.enqueue([nd('d1', 'A')])).toEqual([]);
    const [d4] = await s2.enqueue([nd('d4', 'C')]);
    expect(d4?.seq).toBe(4);
    await s2.close();
    await s1.close();
  });

  it('drops a torn last line and refuses a corrupt middle', async () => {
    const path = join(dir, 'b.journal');
    const s1 = await JournalWebhookStore.open(path);
    await s1.putSubscription(sub);
    await s1.enqueue([nd('d1', 'A')]);
    await s1.close();
    appendFileSync(path, '{"t":"dlv","v":{"id":"half');
    const s2 = await JournalWebhookStore.open(path);
    expect(s2.stats.tornTail).toBe(1);
    expect(await s2.listDeliveries({})).toHaveLength(1);
    await s2.close();
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain('half');
    appendFileSync(path, 'garbage\n{"t":"subdel","id":"sub_1"}\n');
    await expect(JournalWebhookStore.open(path)).rejects.toThrow(/corrupt/);
  });

  it('compaction drops finished deliveries past retention, keeps pending ones', async () => {
    const path = join(dir, 'c.journal');
    const s1 = await JournalWebhookStore.open(path);
    await behaves(s1);
    await s1.close();
    const later = await JournalWebhookStore.open(path, {
      retentionMs: 1000,
      now: () => BASE + 10_000,
    });
    expect((await later.listDeliveries({})).map((d) => d.id)).toEqual(['d2']);
    await later.close();
  });

  it('compacts while running once enough records were appended, losing nothing', async () => {
    const path = join(dir, 'd.journal');
    const s1 = await JournalWebhookStore.open(path, { compactEvery: 4 });
    await behaves(s1);
    expect(s1.stats.compactions).toBeGreaterThan(2);
    const s2 = await JournalWebhookStore.open(path);
    expect((await s2.listDeliveries({})).map((d) => [d.id, d.status])).toEqual([
      ['d1', 'delivered'],
      ['d2', 'pending'],
      ['d3', 'cancelled'],
    ]);
    expect(await s2.listAttempts('d1')).toHaveLength(1);
    expect((await s2.listSubscriptions()).map((s) => s.id)).toEqual(['sub_1']);
    await s2.close();
    await s1.close();
  });
});
