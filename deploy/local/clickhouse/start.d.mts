// Types for start.mjs (plain JS so `node` runs it without a build), used by test/support.
export interface LocalClickHouse {
  /** e.g. http://127.0.0.1:40575 */
  url: string;
  httpPort: number;
  tcpPort: number;
  env: { CLICKHOUSE_URL: string };
  /** throwaway dir holding data, config and logs; removed by stop() */
  dir: string;
  /** SIGTERM, wait, SIGKILL; deletes the data dir. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would; data kept for restart(). */
  kill(): Promise<void>;
  /** Start again on the same ports and data dir. */
  restart(): Promise<void>;
}
export function findClickHouseServer(): { bin: string; viaMulticall: boolean } | undefined;
export function ensureClickHouseInstalled(
  log?: (m: string) => void,
): Promise<{ bin: string; viaMulticall: boolean }>;
export function startClickHouse(opts?: {
  log?: (m: string) => void;
  readyTimeoutMs?: number;
  /** [http, tcp, interserver]: a cluster member's, known to its peers before it starts */
  ports?: number[];
  /** XML inside <yandex> (remote_servers, zookeeper, macros) */
  extraConfig?: string;
}): Promise<LocalClickHouse>;
export const CLUSTER: string;
export interface LocalClickHouseCluster {
  cluster: string;
  /** the replicas of the one shard */
  servers: LocalClickHouse[];
  urls: string[];
  stop(): Promise<void>;
}
export function startClickHouseCluster(opts: {
  /** host:port of the ZooKeeper the replicas coordinate through */
  zookeeper: string;
  replicas?: number;
  log?: (m: string) => void;
  readyTimeoutMs?: number;
}): Promise<LocalClickHouseCluster>;
