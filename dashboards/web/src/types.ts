import type {
  Alert,
  AlertWorkflow,
  AuditEntry,
  QualityReport,
  RateRow,
  RegionTraffic,
  RegionTrafficReport,
  Role,
  TerminalEvent,
  Verdict,
} from '@tillwatch/contracts';

// Audit lines and workflows (REST and socket.io; live.ts reads the socket messages with the
// contract's event types) are the contract's, packages/contracts/src/socket.ts.
export type {
  Alert,
  AuditEntry,
  QualityReport,
  RateRow,
  RegionTraffic,
  RegionTrafficReport,
  Role,
  TerminalEvent,
  Verdict,
};
export type Workflow = AlertWorkflow;

export interface Me {
  role: Role;
  merchantId?: string;
  id: string;
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
