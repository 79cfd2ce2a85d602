import { Kafka, logLevel, type KafkaConfig, type logCreator, type RetryOptions } from 'kafkajs';
import type { Logger } from '@tillwatch/config';
import { KAFKA_RETRY } from './retry';

export interface CreateKafkaOptions {
  /** "host:port" list, or one comma-separated string as KAFKA_BROKERS holds it */
  brokers: string[] | string;
  clientId: string;
  /** kafkajs' logs go here (pino), at this logger's level */
  logger?: Logger;
  retry?: RetryOptions;
  connectionTimeout?: number;
  requestTimeout?: number;
}

export function parseBrokers(brokers: string[] | string): string[] {
  const list = (Array.isArray(brokers) ? brokers : brokers.split(','))
    .map((b) => b.trim())
    .filter(Boolean);
  if (!list.length)
    throw new Error('no Kafka brokers given: set KAFKA_BROKERS=host:port[,host:port]');
  return list;
}

const PINO_TO_KAFKAJS: Record<string, logLevel> = {
  trace: logLevel.DEBUG,
  debug: logLevel.DEBUG,
  info: logLevel.INFO,
  warn: logLevel.WARN,
  error: logLevel.ERROR,
  fatal: logLevel.ERROR,
  silent: logLevel.NOTHING,
};

export function kafkajsLevel(pinoLevel: string): logLevel {
  return PINO_TO_KAFKAJS[pinoLevel] ?? logLevel.INFO;
}

/**
 * CONCURRENT_TRANSACTIONS: the first send of a transaction found the previous one still
 * completing on the coordinator. kafkajs retries it (TRANSACTIONAL_RETRY) but logs each try at
 * error level, from the connection and from the producer: one or two error lines per
 * transaction on a busy processor, which says nothing is wrong. Those go to debug.
 */
const CONCURRENT_TXN = /another concurrent operation on the same transaction was ongoing/;

function routine(level: logLevel, message: string, error: unknown): boolean {
  return (
    level === logLevel.ERROR && (CONCURRENT_TXN.test(message) || CONCURRENT_TXN.test(String(error)))
  );
}

/**
 * Route kafkajs' log entries into pino: one structured line per entry, namespace as a field,
 * kafkajs' extra fields (broker, groupId, error...) kept, its own timestamp dropped (pino's wins).
 */
export function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const {
        message,
        timestamp: _ts,
        logger: _l,
        ...extra
      } = log as typeof log & {
        logger?: string;
      };
      const fields = { ...extra, kafkajs: namespace };
      switch (routine(level, message, extra.error) ? logLevel.DEBUG : level) {
        case logLevel.ERROR:
          logger.error(fields, message);
          break;
        case logLevel.WARN:
          logger.warn(fields, message);
          break;
        case logLevel.INFO:
          logger.info(fields, message);
          break;
        case logLevel.DEBUG:
          logger.debug(fields, message);
          break;
        case logLevel.NOTHING:
          break;
      }
    };
}

/** One kafkajs client per process, configured the same way in every service. */
export function createKafka(opts: CreateKafkaOptions): Kafka {
  const config: KafkaConfig = {
    clientId: opts.clientId,
    brokers: parseBrokers(opts.brokers),
    retry: opts.retry ?? KAFKA_RETRY,
    connectionTimeout: opts.connectionTimeout ?? 3000,
    requestTimeout: opts.requestTimeout ?? 30_000,
  };
  if (opts.logger) {
    config.logLevel = kafkajsLevel(opts.logger.level);
    config.logCreator = pinoLogCreator(opts.logger);
  } else {
    config.logLevel = logLevel.NOTHING;
  }
  return new Kafka(config);
}
