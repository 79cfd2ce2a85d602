import { describe, expect, it } from 'vitest';
import { clusterStatements, localTable, migrationsTableStatements } from './layout';
import { MIGRATIONS, MIGRATIONS_TABLE_DDL, TABLES } from './schema';

const target = { cluster: 'tillwatch', database: 'tw' };

describe('cluster layout (one description, two layouts)', () => {
  it('maps every statement of every migration', () => {
    for (const m of MIGRATIONS)
      for (const s of m.statements) expect(clusterStatements(s, target).length).toBeGreaterThan(0);
  });

  it('a table: a replicated table of the same engine on every server, a Distributed one over it', () => {
    const create = MIGRATIONS[0]!.statements.find((s) => s.includes(`EXISTS ${TABLES.events} (`))!;
    const [local, dist] = clusterStatements(create, target);
    expect(local).toMatch(
      /^CREATE TABLE IF NOT EXISTS tw\.events_raw_local ON CLUSTER tillwatch \(/,
    );
    expect(local).toContain(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tw/events_raw', '{replica}')",
    );
    // partitioning and identity unchanged: retention and FINAL work as on one server
    expect(local).toContain('PARTITION BY toYYYYMMDD(ts)');
    expect(local).toContain('ORDER BY (terminal_id, ts, event_id)');
    expect(dist).toBe(
      'CREATE TABLE IF NOT EXISTS tw.events_raw ON CLUSTER tillwatch AS tw.events_raw_local ' +
        'ENGINE = Distributed(tillwatch, tw, events_raw_local, sipHash64(merchant_id))',
    );
    // a version column stays the engine's last parameter
    const [versioned] = clusterStatements(
      MIGRATIONS[0]!.statements.find((s) => s.includes(`EXISTS ${TABLES.rates} (`))!,
      target,
    );
    expect(versioned).toContain(
      "'/clickhouse/tables/{shard}/tw/window_stats', '{replica}', version)",
    );
  });

  it('a column added: to the replicated tables, and the Distributed table made again', () => {
    const alter = MIGRATIONS.flatMap((m) => m.statements).find((s) => s.startsWith('ALTER'))!;
    const out = clusterStatements(alter, target);
    expect(out[0]).toMatch(/^ALTER TABLE tw\.\w+_local ON CLUSTER tillwatch ADD COLUMN /);
    expect(out[1]).toMatch(/^DROP TABLE IF EXISTS tw\.\w+ ON CLUSTER tillwatch$/);
    expect(out[2]).toMatch(/ENGINE = Distributed\(tillwatch, tw, \w+_local, /);
  });

  it('pane ticks: a Null table on every server, its view writing into the Distributed pane table', () => {
    const m8 = MIGRATIONS.find((m) => m.id === 8)!.statements;
    const [local, dist] = clusterStatements(m8[0]!, target);
    expect(local).toContain('tw.pane_counts_local ON CLUSTER tillwatch');
    expect(local).toContain(
      "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/tw/pane_counts', '{replica}', written_ms)",
    );
    expect(dist).toContain(
      'ENGINE = Distributed(tillwatch, tw, pane_counts_local, sipHash64(key))',
    );
    const ticks = clusterStatements(m8[1]!, target);
    expect(ticks).toHaveLength(1);
    expect(ticks[0]).toMatch(/^CREATE TABLE IF NOT EXISTS tw\.pane_ticks ON CLUSTER tillwatch \(/);
    expect(ticks[0]).toMatch(/\) ENGINE = Null$/);
    const view = clusterStatements(m8[2]!, target);
    expect(view).toHaveLength(1);
    expect(view[0]).toMatch(
      /^CREATE MATERIALIZED VIEW IF NOT EXISTS tw\.pane_ticks_mv ON CLUSTER tillwatch TO tw\.pane_counts AS\s+SELECT /,
    );
    expect(view[0]).toContain('FROM tw.pane_ticks ARRAY JOIN scope, key,');
  });

  it('refuses what it cannot lay out, and a table without a sharding key', () => {
    expect(() => clusterStatements('DROP TABLE x', target)).toThrow(/no cluster layout/);
    expect(() =>
      clusterStatements(
        'CREATE TABLE IF NOT EXISTS new_table (a UInt8) ENGINE = MergeTree() ORDER BY a',
        target,
      ),
    ).toThrow(/no sharding key for table new_table/);
  });

  it('one server: the statements as written', () => {
    expect(migrationsTableStatements(undefined)).toEqual([MIGRATIONS_TABLE_DDL]);
    expect(localTable(TABLES.events, undefined)).toBe(TABLES.events);
    expect(localTable(TABLES.events, 'tillwatch')).toBe('events_raw_local');
  });
});
