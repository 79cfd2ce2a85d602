/**
 * A ClickHouse cluster on loopback for the cluster layout's tests: a ZooKeeper (deploy/local,
 * jars from Maven Central on Java 17) and two ClickHouse servers (Debian's) that are the two
 * replicas of one shard of cluster `tillwatch`. Each server's URL with `?cluster=tillwatch` is
 * what a service's CLICKHOUSE_URL would be. stop() stops and deletes all three.
 */
// By path: deploy/local is scripts in the repository, not a package.
import {
  startClickHouseCluster,
  type LocalClickHouseCluster,
} from '../../../deploy/local/clickhouse/start.mjs';
import { startZooKeeper, type LocalZooKeeper } from '../../../deploy/local/zookeeper/start.mjs';

export interface TestCluster {
  zookeeper: LocalZooKeeper;
  clickhouse: LocalClickHouseCluster;
  /** CLICKHOUSE_URL of each server for database `database`, laid out as the cluster */
  urls(database: string): string[];
  stop(): Promise<void>;
}

export async function startTestCluster(
  opts: { log?: (m: string) => void } = {},
): Promise<TestCluster> {
  const log = opts.log ?? (() => {});
  const zookeeper = await startZooKeeper({ log });
  let clickhouse: LocalClickHouseCluster;
  try {
    clickhouse = await startClickHouseCluster({ zookeeper: `127.0.0.1:${zookeeper.port}`, log });
  } catch (e) {
    await zookeeper.stop();
    throw e;
  }
  return {
    zookeeper,
    clickhouse,
    urls: (database) =>
      clickhouse.urls.map((u) => `${u}/${database}?cluster=${clickhouse.cluster}`),
    async stop() {
      await clickhouse.stop();
      await zookeeper.stop();
    },
  };
}
