import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RULE_IDS } from '@tillwatch/contracts';
import { DEFAULT_RULES_CONFIG, RULE_TEXTS } from '@tillwatch/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyEntry } from './auth';
import { defaultGatewayConfig, loadGatewayConfig } from './config';
import { createGateway, type Gateway } from './gateway';
import { MemoryStore } from './memory-store';
import { rulesReportSchema, type RulesReport } from './rules-in-force';

/** GET /api/rules: the rules in force, staff only, a rules file's overrides shown. */
const keys: ApiKeyEntry[] = [
  { key: 'analyst-key-rules-000001', role: 'analyst', name: 'ana' },
  { key: 'sre-key-rules-0000000001', role: 'sre', name: 'sam' },
  { key: 'admin-key-rules-00000001', role: 'admin', name: 'adm' },
  { key: 'merchant-a-key-rules-001', role: 'merchant', merchantId: 'M-A' },
];
const auth = (i: number) => ({ authorization: `Bearer ${keys[i]!.key}` });

let dir: string;
let file: string;
let plain: Gateway;
let withFile: Gateway;

const get = (gw: Gateway, headers: Record<string, string> = {}, url = '/api/rules') =>
  gw.app.inject({ method: 'GET', url, headers });
const rule = (r: RulesReport, id: string) => r.rules.find((x) => x.rule === id)!;
const fact = (facts: { name: string; value: unknown }[] | null, name: string) =>
  facts?.find((f) => f.name === name)?.value;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-rules-'));
  file = join(dir, 'rules.yaml');
  writeFileSync(
    file,
    [
      'hold: 5m',
      'rules:',
      '  card_testing:',
      '    minCount: 11',
      '    severity: warning',
      '  input_errors:',
      '    enabled: false',
      '',
    ].join('\n'),
  );
  const config = (over: object) =>
    defaultGatewayConfig({ apiKeys: keys, webDist: '/nonexistent', ...over });
  plain = await createGateway({ config: config({}), store: new MemoryStore() });
  withFile = await createGateway({
    config: config({ rulesFile: loadGatewayConfig({ RULES_FILE: file }).rulesFile }),
    store: new MemoryStore(),
  });
});
afterAll(async () => {
  await plain?.close();
  await withFile?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /api/rules', () => {
  it('answers staff, not merchants nor the keyless', async () => {
    for (const i of [0, 1, 2]) expect((await get(plain, auth(i))).statusCode).toBe(200);
    const m = await get(plain, auth(3));
    expect(m.statusCode).toBe(403);
    expect(m.json().error).toBeTypeOf('string');
    expect((await get(plain)).statusCode).toBe(401);
  });

  it('lists every rule id with its settings as configured and its texts in both languages', async () => {
    const res = await get(plain, auth(0));
    const r = rulesReportSchema.parse(res.json());
    expect(r.source).toBe('defaults');
    expect(r.refused).toBeNull();
    expect(r.rules.map((x) => x.rule)).toEqual([...RULE_IDS]);
    const d = DEFAULT_RULES_CONFIG;
    const ct = rule(r, 'card_testing');
    expect(ct).toMatchObject({
      enabled: true,
      severity: d.rules.card_testing.severity,
      windows: d.rules.card_testing.windows,
      hold: d.hold,
      inhibits: d.inhibit.card_testing,
    });
    expect(fact(ct.thresholds, 'minCount')).toBe(d.rules.card_testing.minCount);
    expect(fact(ct.thresholds, 'factor')).toBe(d.rules.card_testing.factor);
    expect(fact(ct.thresholds, 'z')).toBe(d.rules.card_testing.z);
    expect(fact(ct.thresholds, 'minExcess')).toBe(d.rules.card_testing.minExcess);
    expect(fact(ct.thresholds, 'scopes')).toEqual(['merchant']);
    expect(fact(ct.early, 'above')).toBe('factor');
    // nested settings as dotted names; a single-window rule's window among the windows
    const ro = rule(r, 'regional_outage');
    expect(fact(ro.thresholds, 'collapse.ratio')).toBe(d.rules.regional_outage.collapse.ratio);
    expect(fact(ro.thresholds, 'feed.enabled')).toBe(true);
    expect(rule(r, 'failed_but_charged').windows).toEqual([d.rules.failed_but_charged.window]);
    expect(rule(r, 'terminal_silent').early).toBeNull();
    for (const x of r.rules) {
      expect(x.texts.en).toEqual(RULE_TEXTS[x.rule].en);
      expect(x.texts.zh).toEqual(RULE_TEXTS[x.rule].zh);
      expect(x.texts.zh.probableCauses.length).toBeGreaterThan(0);
    }
  });

  it('shows a rules file merged over the defaults, and follows its edits', async () => {
    const r = rulesReportSchema.parse((await get(withFile, auth(1))).json());
    expect(r.source).toBe('file');
    const ct = rule(r, 'card_testing');
    expect(fact(ct.thresholds, 'minCount')).toBe(11);
    expect(ct.severity).toBe('warning');
    expect(ct.hold).toBe('5m');
    // untouched settings keep the defaults
    expect(fact(ct.thresholds, 'factor')).toBe(DEFAULT_RULES_CONFIG.rules.card_testing.factor);
    expect(rule(r, 'input_errors').enabled).toBe(false);

    // an edit is read on the next request
    writeFileSync(file, 'rules:\n  card_testing:\n    minCount: 12\n    windows: [5m]\n');
    const r2 = rulesReportSchema.parse((await get(withFile, auth(0))).json());
    expect(fact(rule(r2, 'card_testing').thresholds, 'minCount')).toBe(12);
    expect(rule(r2, 'card_testing').windows).toEqual(['5m']);
    expect(rule(r2, 'input_errors').enabled).toBe(true);

    // an edit the rules refuse keeps the last valid set (as the processor does) and says why
    writeFileSync(file, 'rules:\n  card_testing:\n    minDistinctCards: 1\n    extra: true\n');
    const r3 = rulesReportSchema.parse((await get(withFile, auth(0))).json());
    expect(r3.refused).toMatch(/card_testing/);
    expect(fact(rule(r3, 'card_testing').thresholds, 'minCount')).toBe(12);
  });

  it('is in the OpenAPI document with its response schema and roles', async () => {
    const doc = (await get(plain, {}, '/docs/json')).json() as {
      paths: Record<string, { get?: Record<string, unknown> }>;
    };
    const op = doc.paths['/api/rules']?.get as {
      description: string;
      responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
    };
    expect(op).toBeDefined();
    expect(op.description).toContain('analyst, sre, admin');
    expect(op.description).not.toContain('merchant');
    expect(JSON.stringify(op.responses['200'])).toContain('probableCauses');
  });
});

describe('editing the rules file (admins)', () => {
  const put = (gw: Gateway, body: unknown, who = 2) =>
    gw.app.inject({
      method: 'PUT',
      url: '/api/rules/file',
      headers: { ...auth(who), 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  const open = async () => (await get(withFile, auth(2), '/api/rules/file')).json();

  it('an admin replaces it: the rules in force follow, the edit is in the history', async () => {
    const before = await open();
    expect(before.path).toBe(file);
    // (whatever the tests above left in it, refused text included: an admin can replace it)
    const text = ['rules:', '  card_testing:', '    minCount: 13', ''].join('\n');
    const res = await put(withFile, { text, base: before.sha256 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ by: 'adm', before: before.sha256, text });
    expect(readFileSync(file, 'utf8')).toBe(text);
    const report = rulesReportSchema.parse((await get(withFile, auth(0))).json());
    expect(fact(rule(report, 'card_testing').thresholds, 'minCount')).toBe(13);
    const history = (await get(withFile, auth(0), '/api/rules/history')).json().edits;
    expect(history[0]).toMatchObject({ by: 'adm', after: res.json().after, text });
  });

  it('refuses invalid rules with the field named, and keeps the file as it was', async () => {
    const before = await open();
    const text = before.text.replace('minCount: 13', 'minCount: 0');
    const res = await put(withFile, { text, base: before.sha256 });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/rules\.card_testing\.minCount/);
    expect(readFileSync(file, 'utf8')).toBe(before.text);
  });

  it('refuses an edit of a text that changed since it was opened (409)', async () => {
    const before = await open();
    const first = await put(withFile, { text: `${before.text}# one\n`, base: before.sha256 });
    expect(first.statusCode).toBe(200);
    const second = await put(withFile, { text: `${before.text}# two\n`, base: before.sha256 });
    expect(second.statusCode).toBe(409);
    expect(second.json().message).toMatch(/changed since it was opened/);
    expect(readFileSync(file, 'utf8')).toBe(`${before.text}# one\n`);
  });

  it('is for admins only, and says why without a RULES_FILE', async () => {
    const before = await open();
    for (const who of [0, 1, 3]) {
      expect(
        (await put(withFile, { text: before.text, base: before.sha256 }, who)).statusCode,
      ).toBe(403);
    }
    expect((await get(withFile, auth(0), '/api/rules/file')).statusCode).toBe(403);
    const none = await put(plain, { text: '{}', base: '0'.repeat(64) });
    expect(none.statusCode).toBe(409);
    expect(none.json().message).toMatch(/no RULES_FILE/);
  });
});
