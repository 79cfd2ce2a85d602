import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS, TABLES } from '@tillwatch/clickhouse';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');
const dashboards = readdirSync(join(root, 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, json: JSON.parse(readFileSync(join(root, 'dashboards', f), 'utf8')) }));
const datasources = parse(
  readFileSync(join(root, 'provisioning/datasources/clickhouse.yaml'), 'utf8'),
) as {
  datasources: { uid: string; type: string }[];
};

/** Columns of each table, read from the migrations' CREATE TABLE statements. */
const columns = new Map<string, Set<string>>();
for (const m of MIGRATIONS) {
  for (const st of m.statements) {
    const t = /CREATE TABLE IF NOT EXISTS (\w+) \(([\s\S]*?)\)\s*ENGINE/.exec(st);
    if (t) columns.set(t[1]!, new Set([...t[2]!.matchAll(/^\s*(\w+)\s+\w/gm)].map((c) => c[1]!)));
  }
}

interface Panel {
  id: number;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { uid: string; type: string };
  targets: { rawSql: string; datasource: { uid: string } }[];
}

describe.each(dashboards)('$file', ({ json }) => {
  const panels = json.panels as Panel[];

  it('has a stable uid, a title and panels with unique ids', () => {
    expect(json.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(json.title).toBeTruthy();
    expect(panels.length).toBeGreaterThan(5);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  it('every panel and query uses the provisioned ClickHouse datasource', () => {
    const ds = datasources.datasources[0]!;
    expect(ds.type).toBe('grafana-clickhouse-datasource');
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: ds.type, uid: ds.uid });
      for (const t of p.targets) expect(t.datasource.uid).toBe(ds.uid);
    }
  });

  it('queries read only tables and columns the migrations create', () => {
    const known = new Set<string>(Object.values(TABLES));
    for (const p of panels) {
      for (const t of p.targets) {
        const tables = [...t.rawSql.matchAll(/\bFROM\s+(\w+)/g)].map((m) => m[1]!);
        expect(tables.length, p.title).toBeGreaterThan(0);
        for (const table of tables) {
          expect(known, `${p.title}: ${table}`).toContain(table);
          const cols = columns.get(table)!;
          // identifiers in WHERE/GROUP BY must be real columns (aliases are defined with AS)
          const where = /WHERE([\s\S]*?)(GROUP BY|ORDER BY|LIMIT|$)/.exec(t.rawSql)?.[1] ?? '';
          for (const id of where.match(/\b[a-z_]+(?=\s*(=|IS|>|<|\)))/g) ?? []) {
            expect(cols, `${p.title}: column ${id} of ${table}`).toContain(id);
          }
        }
      }
    }
  });

  it('SQL stays within what ClickHouse 18.16 runs (docs/architecture.md storage rules)', () => {
    for (const p of panels) {
      for (const t of p.targets) {
        expect(t.rawSql, p.title).not.toMatch(
          /\{\w+:\w+\}|LowCardinality|DateTime64|\bOVER\s*\(|async_insert/i,
        );
      }
    }
  });

  it('panels do not overlap on the grid', () => {
    const cells = new Set<string>();
    for (const p of panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const c = `${x},${y}`;
          expect(cells.has(c), `${p.title} overlaps at ${c}`).toBe(false);
          cells.add(c);
        }
      }
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
  });
});

describe('dashboard provider', () => {
  it('points Grafana at a folder of these files', () => {
    const prov = parse(
      readFileSync(join(root, 'provisioning/dashboards/tillwatch.yaml'), 'utf8'),
    ) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(prov.providers[0]).toMatchObject({
      type: 'file',
      options: { path: expect.stringMatching(/^\//) },
    });
  });
});
