import type { Alert, RateRow, TerminalEvent } from '@tillwatch/contracts';

export type { Alert, RateRow, TerminalEvent };
export type Role = 'analyst' | 'sre' | 'merchant' | 'admin';

export interface Me {
  role: Role;
  merchantId?: string;
  id: string;
}
export interface Workflow {
  state: 'open' | 'acknowledged' | 'resolved';
  assignee?: string;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
  resolvedBy?: string;
  resolvedAt?: string;
}
export interface AuditEntry {
  id: string;
  alertId: string;
  at: string;
  action: string;
  actor: string;
  role: string;
  author?: string;
  note?: string;
  assignee?: string;
  status?: string;
}
export interface AlertItem {
  alert: Alert & { i18n?: unknown };
  workflow: Workflow;
  silencedBy?: string;
  audit?: AuditEntry[];
}
export interface Snapshot {
  window: string;
  seq: Record<string, number>;
  rows: RateRow[];
  alerts: AlertItem[];
}
export interface DrillDown {
  events: TerminalEvent[];
  responseCodes: { code: string; category: string; count: number }[];
  matched: number;
}
export interface RatesMessage {
  room: string;
  seq: number;
  rows: RateRow[];
}
export interface AlertMessage {
  room: string;
  seq: number;
  alert: AlertItem['alert'];
  workflow: Workflow;
  silencedBy?: string;
}
export interface AuditMessage {
  room: string;
  seq: number;
  alertId: string;
  entry: AuditEntry;
  workflow: Workflow;
}
