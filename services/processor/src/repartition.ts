import type { KafkaMessage } from '@tillwatch/kafka';
import type { IHeaders, Message } from 'kafkajs';
import type { ProcessorContext } from './context';

/**
 * The header a re-routed copy carries: `<source partition>@<source offset>` of the record it
 * copies. A record that has it is never re-routed again (a partition count changed twice, say):
 * it is handled where it is.
 */
export const REROUTED_HEADER = 'tillwatch-rerouted-from';

/**
 * Headers that may name the producer. Kafka records carry no client id (the broker sees it per
 * request and does not keep it; kafkajs gives none per record): a producer that sets one of
 * these is named in the log, any other is "unknown".
 */
const CLIENT_ID_HEADERS = ['client-id', 'client.id', 'clientId', 'producer'];

/** A misplaced record's copy for pos.events, to an explicit partition. */
export type Reroute = Message & { partition: number };

/** A misplaced producer is logged at most once per this long (wall clock). */
export const MISPARTITION_LOG_EVERY_MS = 60_000;

/**
 * Partitioning that does not trust the producer. pos.events is keyed by merchantId, and the
 * event stages need a merchant in one partition: the murmur2 partition of its id (Kafka's
 * default partitioner, kafkajs' and the Java client's, the one the local topology routes by).
 * librdkafka's default (`consistent_random`: CRC32), and so kcat and most C, Go and Python
 * producers, puts many merchants elsewhere; a merchant sent by both kinds would have its
 * windows split over two partitions and instances.
 *
 * A valid event found in another partition than its merchant's is not fed to this partition's
 * stage and not stored from here: it is copied, as received (key, value, record timestamp,
 * headers, plus REROUTED_HEADER), to its merchant's partition of pos.events itself, in the same
 * Kafka transaction as the batch's offsets (commit.ts), and counted there like any other record.
 * So the copy exists iff the source offset is committed (exactly once across a crash), the
 * event is in events_raw once (under the partition and offset of the copy), and a replay of a
 * partition (recovery.ts) meets its records in the same order as the live run did: misplaced
 * records skipped again (not copied twice: outputs are suppressed below the commit), copies
 * handled as any record. A dedicated repartition topic would have fed each stage from two
 * partitions, whose interleaving a replay could not reproduce.
 *
 * A copy reaches its partition after the batch that read the original commits: it is late, and
 * counted as late rather than in its windows, once its partition's events have moved further
 * than ALLOWED_LATENESS past it (a mis-partitioned backlog read in one go). Live, that is one
 * batch's write and commit.
 */
export class Repartition {
  /** last log line per producer (client id, else source partition), and lines held back since */
  private readonly logged = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly ctx: ProcessorContext,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The partition a valid event of `partition` belongs in, if not this one (and it is to be
   * moved); undefined: handle it here. `live`: past the replay (count and log it).
   */
  home(
    merchantId: string,
    partition: number,
    msg: KafkaMessage,
    live: boolean,
  ): number | undefined {
    const { cfg, routeEvent } = this.ctx;
    if (cfg.EVENTS_REPARTITION !== 'on' || !routeEvent) return undefined;
    const want = routeEvent(merchantId);
    if (want === partition) return undefined;
    if (msg.headers?.[REROUTED_HEADER] !== undefined) {
      // re-routed once already: never twice (two processors that disagree on the partition
      // count would send it back and forth)
      if (live) this.note(partition, want, merchantId, msg, true);
      return undefined;
    }
    if (live) this.note(partition, want, merchantId, msg, false);
    return want;
  }

  /** The copy of a misplaced record for its own partition. */
  copy(msg: KafkaMessage, from: number, to: number): Reroute {
    const headers: IHeaders = { ...(msg.headers ?? {}) };
    headers[REROUTED_HEADER] = `${from}@${msg.offset}`;
    return {
      partition: to,
      key: msg.key,
      value: msg.value,
      timestamp: msg.timestamp,
      headers,
    };
  }

  private note(
    from: number,
    to: number,
    merchantId: string,
    msg: KafkaMessage,
    already: boolean,
  ): void {
    const { metrics, log, cfg } = this.ctx;
    if (!already) metrics.mispartitioned.inc({ partition: String(from) });
    const clientId = producerOf(msg.headers);
    const who = clientId ?? `partition ${from}`;
    const now = this.now();
    const last = this.logged.get(who);
    if (last && now - last.at < MISPARTITION_LOG_EVERY_MS) {
      last.held++;
      return;
    }
    if (this.logged.size >= 10_000) this.logged.clear();
    this.logged.set(who, { at: now, held: 0 });
    log.warn(
      {
        topic: cfg.TOPIC_EVENTS,
        partition: from,
        murmur2Partition: to,
        offset: msg.offset,
        key: msg.key === null ? null : msg.key.toString('utf8').slice(0, 200),
        merchantId,
        clientId: clientId ?? null,
        sameProducerSinceLastLine: last?.held ?? 0,
      },
      already
        ? 'a re-routed record is again outside its merchant partition (partition count changed?): handled where it is'
        : `record outside its merchant's murmur2 partition: re-routed (producer ${
            clientId ?? 'unknown: records carry no client id'
          }; set its partitioner to murmur2, e.g. partitioner=murmur2_random for librdkafka)`,
    );
  }
}

/** A producer's name if its record carries one in a header (see CLIENT_ID_HEADERS). */
export function producerOf(headers: KafkaMessage['headers']): string | undefined {
  if (!headers) return undefined;
  for (const h of CLIENT_ID_HEADERS) {
    const v = headers[h];
    const one = Array.isArray(v) ? v[0] : v;
    if (one !== undefined && one !== null) return one.toString().slice(0, 200);
  }
  return undefined;
}
