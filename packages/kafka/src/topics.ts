import kafkajs, { type Kafka } from 'kafkajs';
import type { Logger } from '@tillwatch/config';

// kafkajs is CommonJS whose export list ends in a spread, so Node's own ESM loader (node
// --import tsx, i.e. every service's `npm start`) cannot see ConfigResourceTypes as a named
// export; vitest can, which hid it. The default export is the whole module.exports.
const { ConfigResourceTypes } = kafkajs;

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** default: min(3, brokers in the cluster), so one test broker and a real cluster both work */
  replicationFactor?: number;
  /** topic-level configs, e.g. { 'cleanup.policy': 'compact' } */
  config?: Record<string, string>;
}

export interface TopicMismatch {
  topic: string;
  problem: string;
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** existing topics whose partitions or configs differ from the spec (logged, not changed) */
  mismatches: TopicMismatch[];
}

/**
 * Create the topics that are missing; leave existing ones alone but report where they differ.
 * Nothing is changed on an existing topic on purpose: adding partitions re-maps keys (a
 * merchant's events would move partition mid-window) and flipping cleanup.policy rewrites what
 * is kept; both are an operator's decision. Safe to run from every instance at start: a topic
 * created by a peer in between counts as existing.
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: readonly TopicSpec[],
  opts: { logger?: Logger; timeoutMs?: number } = {},
): Promise<EnsureTopicsResult> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { brokers } = await admin.describeCluster();
    const defaultRf = Math.max(1, Math.min(3, brokers.length));
    const have = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !have.has(s.topic));
    const created: string[] = [];
    if (missing.length) {
      await admin.createTopics({
        waitForLeaders: true,
        timeout: opts.timeoutMs ?? 30_000,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor ?? defaultRf,
          configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
      created.push(...missing.map((s) => s.topic));
      opts.logger?.info({ topics: created }, 'created Kafka topics');
    }

    const existingSpecs = specs.filter((s) => have.has(s.topic));
    const mismatches: TopicMismatch[] = [];
    if (existingSpecs.length) {
      const meta = await admin.fetchTopicMetadata({ topics: existingSpecs.map((s) => s.topic) });
      for (const t of meta.topics) {
        const spec = existingSpecs.find((s) => s.topic === t.name);
        if (spec && t.partitions.length !== spec.partitions) {
          mismatches.push({
            topic: t.name,
            problem: `has ${t.partitions.length} partitions, spec says ${spec.partitions}`,
          });
        }
      }
      const withConfig = existingSpecs.filter((s) => s.config && Object.keys(s.config).length);
      if (withConfig.length) {
        const described = await admin.describeConfigs({
          includeSynonyms: false,
          resources: withConfig.map((s) => ({
            type: ConfigResourceTypes.TOPIC,
            name: s.topic,
            configNames: Object.keys(s.config ?? {}),
          })),
        });
        for (const r of described.resources) {
          const spec = withConfig.find((s) => s.topic === r.resourceName);
          for (const entry of r.configEntries) {
            const want = spec?.config?.[entry.configName];
            if (want !== undefined && entry.configValue !== want) {
              mismatches.push({
                topic: r.resourceName,
                problem: `${entry.configName}=${entry.configValue}, spec says ${want}`,
              });
            }
          }
        }
      }
      for (const m of mismatches) {
        opts.logger?.warn(m, 'Kafka topic differs from its spec; left unchanged');
      }
    }
    return { created, existing: existingSpecs.map((s) => s.topic), mismatches };
  } finally {
    await admin.disconnect();
  }
}
