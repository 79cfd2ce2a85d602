import type { Silence } from './silences';
import type { SeriesField } from './chart-spec';
import type {
  AlertItem,
  DrillDown,
  Me,
  QualityReport,
  RegionTrafficReport,
  ConfiguredKey,
  ManagedKey,
  RulesEdit,
  RulesReport,
  Snapshot,
} from './types';
import type {
  DeliveryStatus,
  SubscriptionInput,
  WebhookDelivery,
  WebhookSubscription,
} from './webhooks';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    /** a 400's problems, one per field (errors.ts words them for people) */
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

/** The REST client: every call carries the key from the session (main.ts) as a Bearer token. */
export class Api {
  constructor(private readonly key: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status === 204) return undefined as T;
    const json = (await res.json().catch(() => ({}))) as {
      error?: string;
      message?: string;
      details?: unknown;
    };
    if (!res.ok) {
      throw new ApiError(
        res.status,
        json.error ?? 'error',
        json.message ?? res.statusText,
        json.details ?? null,
      );
    }
    return json as T;
  }

  me = () => this.call<Me>('GET', '/api/me');
  snapshot = (window: string) =>
    this.call<Snapshot>('GET', `/api/snapshot?window=${encodeURIComponent(window)}`);
  alert = (id: string) => this.call<AlertItem>('GET', `/api/alerts/${encodeURIComponent(id)}`);
  /** the alert's 200 newest events, or the 200 before `until` (paging back) */
  drilldown = (id: string, until?: string) =>
    this.call<DrillDown>(
      'GET',
      `/api/alerts/${encodeURIComponent(id)}/drilldown?limit=200${until ? `&until=${encodeURIComponent(until)}` : ''}`,
    );
  /** one key's rates over [since, until] (the last hour without them) */
  series = (scope: string, key: string, window: string, range?: { since: number; until: number }) =>
    this.call<{
      points: ({ ts: string; auths: number } & Record<SeriesField, number | null>)[];
    }>(
      'GET',
      `/api/series?scope=${scope}&key=${encodeURIComponent(key)}&window=${window}${range ? `&since=${iso(range.since)}&until=${iso(range.until)}` : ''}`,
    );
  /** the raw events of one terminal, merchant, region, issuer or software version, newest
   *  first: before `until`, and not before `since` */
  events = (
    scope: string,
    key: string,
    until?: string,
    since?: number,
    filters: Record<string, string> = {},
  ) =>
    this.call<DrillDown>(
      'GET',
      `/api/events?scope=${scope}&key=${encodeURIComponent(key)}&limit=200${until ? `&until=${encodeURIComponent(until)}` : ''}${since !== undefined ? `&since=${iso(since)}` : ''}${Object.entries(
        filters,
      )
        .map(([k, v]) => `&${k}=${encodeURIComponent(v)}`)
        .join('')}`,
    );
  /** alerts, newest first, filtered as /api/alerts takes them (key, merchantId, region...) */
  alerts = (filter: Record<string, string>) =>
    this.call<{ alerts: AlertItem[] }>('GET', `/api/alerts?${new URLSearchParams(filter)}`);
  silences = () => this.call<{ silences: Silence[] }>('GET', '/api/silences');
  createSilence = (body: {
    matchers: Silence['matchers'];
    endsAt: string;
    startsAt?: string;
    recurring?: Silence['recurring'];
    comment: string;
  }) => this.call<Silence>('POST', '/api/silences', body);
  endSilence = (id: string) => this.call<void>('DELETE', `/api/silences/${encodeURIComponent(id)}`);
  /** merchants: their own; admins: everyone's (the API scopes by the key) */
  webhookSubscriptions = () =>
    this.call<{ items: WebhookSubscription[] }>('GET', '/api/webhooks/subscriptions');
  /** the answer carries the signing secret, this once */
  createWebhook = (body: SubscriptionInput) =>
    this.call<WebhookSubscription & { secret: string }>(
      'POST',
      '/api/webhooks/subscriptions',
      body,
    );
  updateWebhook = (id: string, body: Partial<SubscriptionInput> & { enabled?: boolean }) =>
    this.call<WebhookSubscription>(
      'PATCH',
      `/api/webhooks/subscriptions/${encodeURIComponent(id)}`,
      body,
    );
  deleteWebhook = (id: string) =>
    this.call<void>('DELETE', `/api/webhooks/subscriptions/${encodeURIComponent(id)}`);
  /** its unexpired signing secrets, newest first */
  webhookSecrets = (id: string) =>
    this.call<{ secrets: { secret: string; createdAt: string; expiresAt: string | null }[] }>(
      'GET',
      `/api/webhooks/subscriptions/${encodeURIComponent(id)}/secret`,
    );
  /** a new secret; the old one keeps signing for a day (the API's default overlap) */
  rotateWebhookSecret = (id: string) =>
    this.call<{ id: string; secret: string; previousSecretsExpireAt: string | null }>(
      'POST',
      `/api/webhooks/subscriptions/${encodeURIComponent(id)}/rotate-secret`,
      {},
    );
  webhookDeliveries = (status?: DeliveryStatus) =>
    this.call<{ items: WebhookDelivery[] }>(
      'GET',
      `/api/webhooks/deliveries?limit=100${status ? `&status=${status}` : ''}`,
    );
  replayDelivery = (id: string) =>
    this.call<{ replayed: number; ids: string[] }>(
      'POST',
      `/api/webhooks/deliveries/${encodeURIComponent(id)}/replay`,
    );
  /** per-rule precision from the analysts' verdicts, alerts first seen in the last `days` */
  /** each region's last hour against its normal for this hour (staff only) */
  regionTraffic = () => this.call<RegionTrafficReport>('GET', '/api/regions/traffic');
  /** the rules in force: settings, causes and actions (staff only) */
  rules = () => this.call<RulesReport>('GET', '/api/rules');
  /** admins: the rules file's text and the sha256 an edit starts from */
  rulesFile = () =>
    this.call<{ path: string; text: string; sha256: string }>('GET', '/api/rules/file');
  saveRulesFile = (text: string, base: string) =>
    this.call<RulesEdit>('PUT', '/api/rules/file', { text, base });
  /** admins: the configured keys and those made here (never the keys) */
  keys = () =>
    this.call<{ configured: ConfiguredKey[]; managed: ManagedKey[] }>('GET', '/api/keys');
  /** admins: a new key; the answer holds it, this once */
  createKey = (body: { role: string; merchantId?: string; name: string }) =>
    this.call<ManagedKey & { key: string }>('POST', '/api/keys', body);
  revokeKey = (id: string) =>
    this.call<ManagedKey>('DELETE', `/api/keys/${encodeURIComponent(id)}`);
  rulesHistory = () => this.call<{ edits: RulesEdit[] }>('GET', '/api/rules/history');
  quality = (days: number) => this.call<QualityReport>('GET', `/api/quality?days=${days}`);
  act = (
    id: string,
    action: 'ack' | 'assign' | 'notes' | 'resolve',
    body: Record<string, string>,
  ) => this.call<AlertItem>('POST', `/api/alerts/${encodeURIComponent(id)}/${action}`, body);
}

function iso(ms: number): string {
  return encodeURIComponent(new Date(ms).toISOString());
}
