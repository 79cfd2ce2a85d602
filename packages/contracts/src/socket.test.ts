import { describe, expect, it } from 'vitest';
import {
  alertMessageSchema,
  auditMessageSchema,
  ratesMessageSchema,
  regionRequestSchema,
  serverMessageSchemas,
  SERVER_EVENTS,
} from './socket';

const at = '2026-03-02T10:00:00.000Z';
const alert = {
  alertId: 'al-1',
  rule: 'terminal_fault_spike',
  severity: 'critical',
  status: 'firing',
  scope: 'terminal',
  key: 'T-1',
  merchantId: 'M-1',
  window: '5m',
  metric: 'faultRate',
  value: 0.4,
  threshold: 0.1,
  baseline: 0.01,
  evidence: {},
  probableCauses: [],
  actions: [],
  firstSeen: at,
  lastSeen: at,
  ts: at,
};
const entry = {
  id: 'al-1@1772445600000:firing',
  alertId: 'al-1',
  at,
  action: 'fired',
  actor: 'engine',
  role: 'engine',
  status: 'firing',
};

describe('socket contract', () => {
  it('has a schema for every server event', () => {
    expect(Object.keys(serverMessageSchemas).sort()).toEqual([...SERVER_EVENTS].sort());
  });

  it('accepts what the gateway sends', () => {
    const workflow = { state: 'acknowledged', acknowledgedBy: 'ana', acknowledgedAt: at };
    expect(alertMessageSchema.parse({ room: 'analysts', seq: 1, alert, workflow })).toMatchObject({
      alert: { alertId: 'al-1' },
    });
    const audit = { room: 'merchant:M-1', seq: 7, alertId: 'al-1', entry, workflow };
    expect(auditMessageSchema.parse(audit)).toEqual(audit);
    expect(ratesMessageSchema.parse({ room: 'sre', seq: 2, rows: [] }).rows).toEqual([]);
  });

  it('refuses what a board could not use', () => {
    const workflow = { state: 'open' };
    for (const bad of [
      { room: 'analysts', seq: 0, alertId: 'al-1', entry, workflow }, // seq starts at 1
      { room: 'analysts', seq: 1, alertId: 'al-1', entry: { ...entry, action: 'x' }, workflow },
      { room: 'analysts', seq: 1, alertId: 'al-1', entry: { ...entry, role: 'root' }, workflow },
      { room: 'analysts', seq: 1, alertId: 'al-1', entry: { ...entry, at: 'yesterday' }, workflow },
      { room: 'analysts', seq: 1, alertId: 'al-1', entry, workflow: { state: 'closed' } },
    ]) {
      expect(auditMessageSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('a region request is one safe room id and nothing else', () => {
    expect(regionRequestSchema.parse({ region: 'CN-31' })).toEqual({ region: 'CN-31' });
    for (const bad of [{ region: '../x y' }, { region: '' }, { region: 'CN-31', extra: 1 }, {}]) {
      expect(regionRequestSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
