// Types for start.mjs (plain JS so `node` runs it without a build), used by tests.
export interface LocalZooKeeper {
  host: string;
  port: number;
  env: { ZOOKEEPER: string };
  /** throwaway dir holding data, config and logs; removed by stop() */
  dir: string;
  /** SIGTERM, wait, SIGKILL; deletes the data dir. */
  stop(): Promise<void>;
}
export const ZOOKEEPER_LIBS: string;
export function ensureZooKeeperLibs(log?: (m: string) => void): Promise<string>;
export function serving(port: number, timeoutMs?: number): Promise<boolean>;
export function startZooKeeper(opts?: {
  log?: (m: string) => void;
  readyTimeoutMs?: number;
}): Promise<LocalZooKeeper>;
