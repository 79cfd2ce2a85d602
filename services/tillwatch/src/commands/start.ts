import { createLogger, exitOnConfigError, type Logger } from '@tillwatch/config';
import { validateEvent, type Alert, type RateRow, type TerminalEvent } from '@tillwatch/contracts';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createGateway,
  generateDemoKeys,
  loadGatewayConfig,
  MemoryKeyStore,
  MemoryStore,
  type Gateway,
  type Silence,
} from '@tillwatch/gateway';
import {
  createNotifier,
  loadNotifierEnv,
  toNotifierConfig,
  type Notifier,
} from '@tillwatch/notifier';
import {
  fromStoredSilence,
  loadRulesFile,
  watchRulesFile,
  type RulesWatcher,
} from '@tillwatch/rules';
import { LocalTopology } from '@tillwatch/stream';
import { JournalWebhookStore } from '@tillwatch/webhooks';
import { fixedSource, PULL_CHUNK, simulatedSource, type SimulatedResume } from './sources';
import {
  replayFrom,
  settles,
  StateDir,
  STATE_VARIABLE,
  SentTransitions,
  type SavedState,
  type SourceState,
} from './state';
import { loadStartConfig, type StartConfig } from '../config';

export interface AllInOne {
  url: string;
  gateway: Gateway;
  /** the stream topology the processor runs, in this process */
  topology: LocalTopology;
  /** rule-set changes, newest last: applied or refused, with the file's sha256 */
  rulesAudit: RulesAuditEntry[];
  store: MemoryStore;
  notifier: Notifier;
  /** the generated demo keys (empty when TILLWATCH_API_KEYS configured them) */
  keys: { role: string; key: string; merchantId?: string }[];
  /** how this start used its state directory (TILLWATCH_STATE_DIR) */
  restart: RestartInfo;
  stop(): Promise<void>;
}

export interface RestartInfo {
  /** the state directory, absent when TILLWATCH_STATE_DIR=off */
  dir?: string;
  /** the previous run's state was used (same source), with or without a rules memory */
  resumed: boolean;
  /** the oldest restored memory's time (epoch ms): the rules judge again from there */
  memoryAt?: number;
  /**
   * Stages restored from a memory, of how many: a stage without one (the previous run stopped
   * after some partitions crossed their first hour and before others did) judges again from
   * replayFrom.
   */
  restored?: { stages: number; of: number };
  /** event time the source is replayed from; earlier events only prime settlements */
  replayFrom?: number;
  /** events before replayFrom: priming pending settlements, or skipped */
  primed: number;
  skipped: number;
  /** transitions the replay raised again that the previous run had sent: not sent twice */
  suppressed: number;
  /**
   * transitions the previous run had raised and not sent at its stop (waiting for their
   * boundary to close on every partition) that no restored stage raises again: handed back
   */
  reinjected?: number;
  /** silences and API keys made on the board that the state directory handed back */
  board?: { silences: number; keys: number };
}

export interface RulesAuditEntry {
  at: string;
  file: string;
  sha256: string;
  outcome: 'applied' | 'refused';
  reason?: string;
}

export interface AllInOneOptions {
  port?: number;
  seed?: number;
  /**
   * Events to feed instead of the simulated fleet (tests: the same file as replay and the
   * processor). They are pushed in order, in event time only: no wall clock advances them.
   */
  events?: readonly TerminalEvent[];
  /** every alert transition, as it goes to the board's store and the webhooks */
  onAlert?: (a: Alert) => void;
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** overrides TILLWATCH_STATE_DIR (`tillwatch start --state-dir`) */
  stateDir?: string;
}

/** Event-loop cadence: pull due events every 200 ms, evaluate rules and push rates every second. */
const PULL_MS = 200;
const PUSH_MS = 1000;
const BOARD_WINDOWS = ['1m', '5m', '15m', '1h'] as const;

export async function startAllInOne(opts: AllInOneOptions = {}): Promise<AllInOne> {
  const cfg: StartConfig = loadStartConfig(opts.env);
  const gwCfg = loadGatewayConfig(opts.env);
  if (opts.port !== undefined) gwCfg.port = opts.port;
  if (cfg.TILLWATCH_RULES_FILE && gwCfg.rulesFile === undefined) {
    // the board shows the rules (GET /api/rules) and local hours of the engine it runs with
    const calendar = loadRulesFile(cfg.TILLWATCH_RULES_FILE).calendar;
    gwCfg.rulesFile = cfg.TILLWATCH_RULES_FILE;
    gwCfg.timeZones = { timeZone: calendar.timeZone, regions: calendar.regions };
  }
  const log =
    opts.logger ??
    createLogger('tillwatch', {
      level: cfg.LOG_LEVEL,
      pretty:
        cfg.LOG_FORMAT === 'auto' ? Boolean(process.stdout.isTTY) : cfg.LOG_FORMAT === 'pretty',
    });

  // The state directory: a restart of the same source continues from what was learnt and sent.
  const seed = opts.seed ?? cfg.TILLWATCH_SEED;
  const dir = opts.stateDir ?? cfg.TILLWATCH_STATE_DIR;
  // every partition has an events stage and a rollup stage, each taking its own memories
  const stages = 2 * cfg.TILLWATCH_PARTITIONS;
  const state = dir === 'off' ? undefined : StateDir.open(dir, log, stages);
  const want: SourceState = opts.events
    ? { kind: 'events', partitions: cfg.TILLWATCH_PARTITIONS }
    : {
        kind: 'simulated',
        seed,
        terminals: cfg.TILLWATCH_TERMINALS,
        merchants: cfg.TILLWATCH_MERCHANTS,
        regions: cfg.TILLWATCH_REGIONS,
        partitions: cfg.TILLWATCH_PARTITIONS,
        start: 0,
        firstAt: 0,
        position: 0,
      };
  let saved: SavedState | undefined = state?.read();
  if (saved?.source) {
    const differ = sourceDiffers(saved.source, want);
    if (differ.length) {
      log.warn(
        { dir, differ },
        `${STATE_VARIABLE} holds the state of another source (${differ.join(', ')}): starting afresh`,
      );
      saved = undefined;
    }
  } else saved = undefined;
  const restart: RestartInfo = {
    ...(state ? { dir } : {}),
    resumed: saved !== undefined,
    primed: 0,
    skipped: 0,
    suppressed: 0,
  };
  const memories = saved?.memories ?? [];
  const sent = saved?.sent ?? new SentTransitions();
  const from = replayFrom(memories);
  if (memories.length) {
    restart.memoryAt = Math.min(...memories.map((m) => m.at));
    restart.replayFrom = from;
    restart.restored = { stages: memories.length, of: stages };
  }

  const source = opts.events
    ? fixedSource(opts.events, cfg.TILLWATCH_PARTITIONS)
    : simulatedSource(
        cfg,
        seed,
        Date.now(),
        saved?.source?.kind === 'simulated' ? (saved.source as SimulatedResume) : undefined,
      );
  if (state && !saved) state.reset(source.state());
  const store = new MemoryStore();
  const topology = new LocalTopology(
    {
      alert: (a) => {
        if (sent.take(a)) {
          // sent before the restart: the board gets it back, merchants and onAlert do not
          restart.suppressed++;
          store.pushAlert(a);
          return;
        }
        state?.sent(a);
        opts.onAlert?.(a);
        store.pushAlert(a);
        void notifier
          .ingest(a)
          .catch((err: unknown) => log.error({ err }, 'webhook enqueue failed'));
      },
      ...(state ? { memory: (m) => state.take(m) } : {}),
    },
    {
      partitions: cfg.TILLWATCH_PARTITIONS,
      lang: cfg.TILLWATCH_LANG,
      ...(cfg.TILLWATCH_RULES_FILE ? { rules: loadRulesFile(cfg.TILLWATCH_RULES_FILE) } : {}),
    },
  );
  // (read and removed at every start with the saved state: this run writes its own)
  const inFlight = saved ? (state?.takeInFlight() ?? []) : [];
  if (memories.length) {
    topology.restore(memories);
    // What the run before raised and had not sent when it stopped: the stages whose memory is
    // at or after a transition's time do not judge it again, so it is handed back as it was.
    const at = new Map(
      memories.filter((m) => m.stage === 'events').map((m) => [m.partition, m.at]),
    );
    const back = inFlight.filter(
      (h) => Date.parse(h.a.ts) <= (at.get(h.src) ?? Number.NEGATIVE_INFINITY),
    );
    topology.reinject(back);
    restart.reinjected = back.length;
    // what was firing at the memory's time, for the board (it was sent before the stop)
    for (const a of topology.active()) store.pushAlert(a);
  }
  log.info(
    {
      dir: state ? dir : 'off',
      resumed: restart.resumed,
      memoryAt: restart.memoryAt !== undefined ? new Date(restart.memoryAt).toISOString() : null,
      replayFrom: Number.isFinite(from) ? new Date(from).toISOString() : null,
      sentBefore: sent.size,
    },
    restart.resumed ? 'state: continuing the previous run' : 'state: a first start',
  );
  const rulesAudit: RulesAuditEntry[] = [];
  let rulesWatcher: RulesWatcher | undefined;
  if (cfg.TILLWATCH_RULES_FILE) {
    const file = cfg.TILLWATCH_RULES_FILE;
    const audit = (outcome: RulesAuditEntry['outcome'], reason?: string) => {
      let sha256 = '';
      try {
        sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
      } catch {
        // unreadable: the reason says so
      }
      const entry: RulesAuditEntry = { at: new Date().toISOString(), file, sha256, outcome };
      if (reason) entry.reason = reason;
      rulesAudit.push(entry);
      if (rulesAudit.length > 100) rulesAudit.shift();
      if (outcome === 'applied') log.info({ audit: 'rules', ...entry }, 'rules reloaded');
      else log.error({ audit: 'rules', ...entry }, 'rules file refused; the previous rules stay');
    };
    rulesWatcher = watchRulesFile(file, topology, (err) => audit('refused', err.message), {
      onReload: () => audit('applied'),
    });
  }
  // Silences made on the board mute the rules too: rule, scope, key, merchant and region.
  store.onSilencesChanged((silences) => topology.setSilences(silences.map(fromStoredSilence)));
  // API keys admins make on the board (#/keys), beside the configured or generated ones.
  const managedKeys = new MemoryKeyStore();
  if (state) {
    // What people set on the board, handed back before the replay: a silence mutes the
    // replayed transitions as it muted them live (board.json, state.ts).
    const board = state.readBoard();
    if (board) {
      store.restoreSilences(board.silences);
      managedKeys.restore(board.keys);
      restart.board = { silences: board.silences.length, keys: board.keys.length };
      log.info(restart.board, 'state: silences and API keys made on the board restored');
    }
    let silences: readonly Silence[] = board?.silences ?? [];
    const save = () => state.writeBoard({ silences: [...silences], keys: managedKeys.saved() });
    store.onSilencesChanged((list) => {
      silences = list;
      save();
    });
    managedKeys.onChanged(save);
  }

  const keys: AllInOne['keys'] = [];
  const firstMerchant = source.demo?.merchantId;
  const demoTerminals = source.demo?.terminals ?? [];
  if (gwCfg.apiKeys.length === 0) {
    const demo = generateDemoKeys({ merchants: firstMerchant ? [firstMerchant] : [] });
    gwCfg.apiKeys = demo;
    keys.push(...demo.map((k) => ({ role: k.role, key: k.key, merchantId: k.merchantId })));
  }
  // Merchant webhooks: subscriptions and pending deliveries in a fsync'd journal (embedded mode),
  // so a restart of the all-in-one loses no delivery.
  const notifierEnv = loadNotifierEnv(opts.env);
  const webhookStore = await JournalWebhookStore.open(notifierEnv.NOTIFIER_JOURNAL_PATH);
  const notifier = createNotifier({
    config: toNotifierConfig(notifierEnv),
    store: webhookStore,
    logger: log.child({ svc: 'notifier' }),
  });
  notifier.start();

  const gateway = await createGateway({
    config: gwCfg,
    store,
    keys: managedKeys,
    webhooks: { store: webhookStore },
    logger: log.child({ svc: 'gateway' }),
  });
  const url = await gateway.listen();

  let pushed = 0;
  let accepted = 0;
  let rejected = 0;
  const pull = (): number => {
    const batch = source.pull();
    if (batch.length === 0) return 0;
    const events: TerminalEvent[] = [];
    for (const raw of batch) {
      const r = validateEvent(raw);
      if (!r.ok) {
        rejected++;
        log.warn({ reason: r.reason }, 'simulator produced an invalid event');
        continue;
      }
      if (r.event.ts < from) {
        // before the restored memory's replay: only what settlements due later need
        if (settles(r.event, from)) {
          topology.prime(r.event);
          restart.primed++;
        } else restart.skipped++;
        continue;
      }
      topology.push(r.event);
      events.push(r.event);
      accepted++;
    }
    store.pushEvents(events);
    state?.flush(() => topology.inFlight());
    return batch.length;
  };
  let sourceState = '';
  const saveSource = () => {
    const next = JSON.stringify(source.state());
    if (next === sourceState) return;
    sourceState = next;
    state?.writeSource(source.state());
  };
  const push = () => {
    const wm = source.watermark();
    if (wm !== undefined) topology.advance(wm - topology.allowedLatenessMs);
    // Every window the board can switch to: regions and the fleet in full, the worst 50
    // terminals and merchants, and all of the demo merchant's terminals for its own view.
    const rows: RateRow[] = [];
    for (const w of BOARD_WINDOWS) {
      rows.push(
        ...topology.rates('fleet', w),
        ...topology.rates('region', w),
        ...topology.rates('terminal', w, { top: 50, minAuths: 5 }),
        ...topology.rates('merchant', w, { top: 50, minAuths: 10 }),
        ...topology.rates('firmware', w),
        ...topology.rates('issuer', w),
      );
      if (demoTerminals.length) {
        rows.push(...topology.rates('terminal', w, { keys: demoTerminals, minAuths: 0 }));
      }
    }
    store.pushRates(rows);
    pushed += rows.length;
    saveSource();
  };

  // Replay the history at once so windows and baselines are warm when the board opens (after
  // a restart: the simulated fleet regenerated up to where it was).
  while (pull() >= PULL_CHUNK);
  push();
  log.info(
    {
      events: accepted,
      historyMin: cfg.TILLWATCH_HISTORY_MIN,
      partitions: topology.partitions,
      primed: restart.primed,
      skipped: restart.skipped,
      suppressed: restart.suppressed,
    },
    'history replayed',
  );

  let stopped = false;
  const pullTimer = setInterval(() => {
    try {
      pull();
    } catch (err) {
      log.error({ err }, 'pull failed');
    }
  }, PULL_MS);
  const pushTimer = setInterval(() => {
    try {
      push();
    } catch (err) {
      log.error({ err }, 'push failed');
    }
  }, PUSH_MS);
  const statsTimer = setInterval(() => {
    log.info({ ...topology.stats(), valid: accepted, rejected, rateRows: pushed }, 'running');
  }, 30_000);
  statsTimer.unref();

  return {
    url,
    gateway,
    topology,
    rulesAudit,
    store,
    notifier,
    keys,
    restart,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(pullTimer);
      clearInterval(pushTimer);
      clearInterval(statsTimer);
      // in flight now, then the memory if a stage took one (flush's order; written once)
      state?.writeInFlight(topology.inFlight());
      state?.flush();
      saveSource();
      rulesWatcher?.close();
      await gateway.close();
      await notifier.stop();
      await webhookStore.close();
    },
  };
}

/** Which of a source's settings differ from the state's (the variables that set them). */
function sourceDiffers(saved: SourceState, want: SourceState): string[] {
  if (saved.kind !== want.kind) return [`source ${saved.kind}, not ${want.kind}`];
  const names: Record<string, string> = {
    seed: 'TILLWATCH_SEED',
    terminals: 'TILLWATCH_TERMINALS',
    merchants: 'TILLWATCH_MERCHANTS',
    regions: 'TILLWATCH_REGIONS',
    partitions: 'TILLWATCH_PARTITIONS',
  };
  const a = saved as unknown as Record<string, unknown>;
  const b = want as unknown as Record<string, unknown>;
  return Object.keys(names)
    .filter((k) => k in b && a[k] !== b[k])
    .map((k) => `${names[k]} ${String(a[k])} -> ${String(b[k])}`);
}

export async function start(opts: {
  port?: number;
  seed?: number;
  stateDir?: string;
}): Promise<void> {
  let app: AllInOne;
  try {
    app = await startAllInOne(opts);
  } catch (err) {
    exitOnConfigError(err);
  }
  const lines = [
    '',
    `  Tillwatch all-in-one is running: ${app.url}`,
    '',
    ...(app.keys.length
      ? [
          '  One-time API keys for this run (paste one on the login page):',
          ...app.keys.map(
            (k) => `    ${k.role.padEnd(8)} ${k.merchantId ? `(${k.merchantId}) ` : ''}${k.key}`,
          ),
          '',
          `  Or open ${app.url}/#key=<key>. Set TILLWATCH_API_KEYS to configure your own keys.`,
          '',
        ]
      : []),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const shutdown = async () => {
    await app.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}
