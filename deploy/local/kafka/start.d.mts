// Types for start.mjs (plain JS so `node` runs it without a build), used by test/support.
export interface LocalKafka {
  /** host:port of the broker, e.g. 127.0.0.1:34009 */
  brokers: string;
  env: { KAFKA_BROKERS: string };
  /** throwaway dir holding data, config and server.log; removed by stop() */
  dir: string;
  logFile: string;
  /** The broker JVM's pid (a new one after restart()). */
  readonly pid: number;
  /** SIGTERM, wait, SIGKILL; deletes the data dir. */
  stop(): Promise<void>;
  /** SIGKILL, as `kill -9` would; data kept for restart(). */
  kill(): Promise<void>;
  /** Start again on the same ports, config and data dir. */
  restart(): Promise<void>;
}
export const KAFKA_LIBS: string;
export function ensureKafkaLibs(log?: (m: string) => void): Promise<string>;
export function metadataProbe(
  port: number,
  timeoutMs?: number,
): Promise<{ brokers: number; controllerId: number }>;
export function startKafka(opts?: {
  log?: (m: string) => void;
  partitions?: number;
  readyTimeoutMs?: number;
}): Promise<LocalKafka>;
