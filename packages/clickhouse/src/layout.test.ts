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
