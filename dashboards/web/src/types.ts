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

/** A configured setting of a rule: `name` its key in the rules file (dotted below the rule). */
export interface RuleFact {
  name: string;
  value: number | string | boolean | string[];
}

/** One rule of `GET /api/rules` (services/gateway/src/rules-in-force.ts). */
export interface RuleInForce {
  rule: string;
  enabled: boolean;
  severity: string;
  windows: string[];
  hold: string;
  thresholds: RuleFact[];
  early: RuleFact[] | null;
  inhibits: string[];
  texts: Record<'en' | 'zh', { probableCauses: string[]; actions: string[] }>;
}

/** The body of `GET /api/rules`: the rules the processor runs (staff only). */
export interface RulesReport {
  source: 'file' | 'defaults';
  refused: string | null;
  evaluateEvery: string;
  reopenGuard: string;
  rules: RuleInForce[];
}

/** One edit of the rules file through the gateway (GET /api/rules/history). */
export interface RulesEdit {
  at: string;
  by: string;
  before: string | null;
  after: string;
  text: string;
}

/** A configured API key as GET /api/keys lists it (never the key). */
export interface ConfiguredKey {
  role: string;
  merchantId?: string;
  name: string;
  fingerprint: string;
}
/** A key made by an admin (GET /api/keys). */
export interface ManagedKey extends ConfiguredKey {
  id: string;
  createdBy: string;
  createdAt: string;
  revokedBy?: string;
  revokedAt?: string;
}
