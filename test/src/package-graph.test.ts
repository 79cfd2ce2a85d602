import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The package graph reads downwards only: contracts and core at the bottom (core imports
 * nothing), then the packages with I/O and the rules, then the stream topology (core → rules →
 * stream), then the services, the all-in-one CLI, the end-to-end suites. Checked on package.json
 * and on every import in the sources, so an import that only resolves because npm hoisted the
 * package fails here.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const LAYER: Record<string, number> = {
  contracts: 0,
  core: 0,
  config: 0,
  testkit: 0,
  simulator: 1,
  kafka: 1,
  clickhouse: 1,
  rules: 1,
  webhooks: 2,
  stream: 2,
  web: 3,
  grafana: 3,
  gateway: 4,
  notifier: 4,
  processor: 4,
  tillwatch: 5,
  e2e: 6,
};
/** test helpers: a dev dependency only, never shipped */
const DEV_ONLY = new Set(['testkit']);

interface Pkg {
  name: string;
  dir: string;
  deps: string[];
  devDeps: string[];
}

function packages(): Pkg[] {
  const out: Pkg[] = [];
  for (const group of ['packages', 'services', 'dashboards', 'test']) {
    const dirs =
      group === 'test'
        ? [join(root, 'test')]
        : readdirSync(join(root, group)).map((d) => join(root, group, d));
    for (const dir of dirs) {
      let json: {
        name: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      try {
        json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      } catch {
        continue;
      }
      const ours = (o?: Record<string, string>) =>
        Object.keys(o ?? {})
          .filter((k) => k.startsWith('@tillwatch/'))
          .map((k) => k.slice('@tillwatch/'.length));
      out.push({
        name: json.name.slice('@tillwatch/'.length),
        dir,
        deps: ours(json.dependencies),
        devDeps: ours(json.devDependencies),
      });
    }
  }
  return out;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === 'dist' || e.startsWith('.')) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|tsx|mts)$/.test(e)) out.push(p);
  }
  return out;
}

describe('the package graph', () => {
  const all = packages();

  it('knows every package', () => {
    expect(all.map((p) => p.name).filter((n) => LAYER[n] === undefined)).toEqual([]);
  });

  it('every dependency points down', () => {
    const bad: string[] = [];
    for (const p of all) {
      for (const d of [...p.deps, ...p.devDeps]) {
        if (!(LAYER[d]! < LAYER[p.name]!)) bad.push(`${p.name} -> ${d}`);
      }
      for (const d of p.deps) if (DEV_ONLY.has(d)) bad.push(`${p.name} ships ${d}`);
    }
    expect(bad).toEqual([]);
  });

  it('core depends on nothing, rules not on the stream, no service on another service but the all-in-one', () => {
    const of = (n: string) => all.find((p) => p.name === n)!;
    expect([...of('core').deps, ...of('core').devDeps]).toEqual([]);
    expect(of('rules').deps).not.toContain('stream');
    expect(of('gateway').deps).not.toContain('core');
    for (const s of ['gateway', 'notifier', 'processor'])
      for (const t of ['gateway', 'notifier', 'processor', 'tillwatch'])
        expect(of(s).deps).not.toContain(t);
  });

  it('every import of a workspace package is declared by the importer', () => {
    const bad: string[] = [];
    for (const p of all) {
      const declared = new Set([...p.deps, ...p.devDeps, p.name]);
      for (const file of sources(p.dir)) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/from '@tillwatch\/([a-z0-9-]+)/g)) {
          if (!declared.has(m[1]!)) bad.push(`${file.slice(root.length + 1)} imports ${m[1]}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
