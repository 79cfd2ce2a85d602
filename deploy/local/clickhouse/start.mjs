// @ts-check
// ClickHouse from Debian's package as a plain process (no Docker, no systemd): a generated
// config on free 127.0.0.1 ports, data in a temp dir that stop() deletes. Debian ships 18.16,
// whose config is the old <yandex> shape; current releases still read it.
//
//   node deploy/local/clickhouse/start.mjs          prints CLICKHOUSE_URL=http://127.0.0.1:<port>
//   import { startClickHouse } from './start.mjs'   const ch = await startClickHouse(); ...; await ch.stop()
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  freePorts,
  makeTempDir,
  removeDir,
  run,
  runCliIfMain,
  spawnServer,
  tail,
  waitFor,
} from '../lib.mjs';

/** Path of the server binary, or undefined when the package is not installed. */
export function findClickHouseServer() {
  for (const bin of ['clickhouse-server', '/usr/sbin/clickhouse-server', '/usr/bin/clickhouse']) {
    const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
    const found = r.stdout.trim();
    if (r.status === 0 && found) return { bin: found, viaMulticall: bin.endsWith('/clickhouse') };
  }
  return undefined;
}

/**
 * Install Debian's clickhouse-server when it is missing (a fresh CI machine). We run as root
 * there; apt-get update first, or the package list may not know the package yet.
 */
export async function ensureClickHouseInstalled(log = (_m) => {}) {
  const found = findClickHouseServer();
  if (found) return found;
  log('clickhouse-server not installed: apt-get install -y clickhouse-server (first run only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-q'], { env });
  await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'clickhouse-server'], {
    env,
  });
  const after = findClickHouseServer();
  if (!after) throw new Error('apt-get installed clickhouse-server but no binary was found');
  return after;
}

function configXml({ dir, httpPort, tcpPort, interserverPort, extra = '' }) {
  return `<?xml version="1.0"?>
<!-- written by deploy/local/clickhouse/start.mjs for one throwaway test server -->
<yandex>
    <logger>
        <level>information</level>
        <log>${dir}/log/server.log</log>
        <errorlog>${dir}/log/server.err.log</errorlog>
        <size>100M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>${httpPort}</http_port>
    <tcp_port>${tcpPort}</tcp_port>
    <interserver_http_port>${interserverPort}</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>64</max_concurrent_queries>
    <!-- Caches sized for a 2-core test box, not the 8 GB / 5 GB production defaults. -->
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>${dir}/data/</path>
    <tmp_path>${dir}/tmp/</tmp_path>
    <user_files_path>${dir}/user_files/</user_files_path>
    <format_schema_path>${dir}/format_schemas/</format_schema_path>
    <users_config>${dir}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <!-- Event times are stored and compared in UTC whatever the machine's zone is. -->
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
${extra}</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
`;

async function ping(url) {
  const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
  return res.ok && (await res.text()).startsWith('Ok');
}

/**
 * Start ClickHouse on free loopback ports. The returned handle can also `kill()` (SIGKILL, as
 * a crash would) and `restart()` on the same ports and data dir: the writer tests use that to
 * take the server away mid-write.
 * `ports` ([http, tcp, interserver]) and `extraConfig` (XML inside <yandex>) are for a cluster
 * member (startClickHouseCluster), whose peers must know its ports before it starts.
 * @param {{ log?: (m: string) => void, readyTimeoutMs?: number, ports?: number[], extraConfig?: string }} [opts]
 */
export async function startClickHouse(opts = {}) {
  const log = opts.log ?? (() => {});
  const { bin, viaMulticall } = await ensureClickHouseInstalled(log);
  const dir = makeTempDir('tillwatch-clickhouse-');
  try {
    for (const d of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) {
      mkdirSync(path.join(dir, d));
    }
    const [httpPort, tcpPort, interserverPort] = opts.ports ?? (await freePorts(3));
    const config = path.join(dir, 'config.xml');
    writeFileSync(
      config,
      configXml({ dir, httpPort, tcpPort, interserverPort, extra: opts.extraConfig ?? '' }),
    );
    writeFileSync(path.join(dir, 'users.xml'), USERS_XML);
    const url = `http://127.0.0.1:${httpPort}`;
    const logFile = path.join(dir, 'stdout.log');
    const args = [...(viaMulticall ? ['server'] : []), `--config-file=${config}`];
    const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;

    const launch = async () => {
      const server = spawnServer(bin, args, { logFile, cwd: dir, cleanupDir: dir });
      try {
        await waitFor('clickhouse /ping', () => ping(url), {
          timeoutMs: readyTimeoutMs,
          alive: server.alive,
        });
      } catch (e) {
        const out = `${tail(logFile)}\n${tail(path.join(dir, 'log/server.err.log'))}`;
        await server.stop(2000);
        throw new Error(`${/** @type {Error} */ (e).message}\n--- clickhouse log tail ---\n${out}`);
      }
      return server;
    };

    let server = await launch();
    log(`clickhouse ready at ${url} (data in ${dir})`);
    return {
      url,
      httpPort,
      tcpPort,
      env: { CLICKHOUSE_URL: url },
      dir,
      /** SIGTERM, wait, SIGKILL; deletes the data dir. */
      async stop() {
        await server.stop(10_000);
        removeDir(dir);
      },
      /** SIGKILL: the server vanishes as in a crash; data dir kept for restart(). */
      async kill() {
        await server.stop(0);
      },
      /** Start again on the same ports and data. */
      async restart() {
        await server.stop(10_000);
        server = await launch();
      },
    };
  } catch (e) {
    removeDir(dir);
    throw e;
  }
}

/** The cluster's name in remote_servers, the {cluster} macro and ON CLUSTER statements. */
export const CLUSTER = 'tillwatch';

/**
 * ClickHouse as a cluster on one machine: `replicas` servers (default 2) that are the replicas
 * of one shard, coordinated through the ZooKeeper at `zookeeper` ("host:port"). One shard of
 * two replicas rather than two shards of one: a server killed in the middle loses nothing
 * (its replica has every row and takes the writes; it catches up on return), which is the
 * failure the cluster tests exercise; the Distributed tables over it are what more shards
 * would use too (remote_servers gains a <shard> per shard).
 * @param {{ zookeeper: string, replicas?: number, log?: (m: string) => void, readyTimeoutMs?: number }} opts
 */
export async function startClickHouseCluster(opts) {
  const n = opts.replicas ?? 2;
  const ports = await freePorts(3 * n);
  const [zkHost, zkPort] = opts.zookeeper.split(':');
  const replicas = Array.from(
    { length: n },
    (_, i) =>
      `                <replica><host>127.0.0.1</host><port>${ports[3 * i + 1]}</port></replica>`,
  ).join('\n');
  const extra = (i) => `    <remote_servers>
        <${CLUSTER}>
            <shard>
                <internal_replication>true</internal_replication>
${replicas}
            </shard>
        </${CLUSTER}>
    </remote_servers>
    <zookeeper>
        <node><host>${zkHost}</host><port>${zkPort}</port></node>
        <session_timeout_ms>10000</session_timeout_ms>
    </zookeeper>
    <macros>
        <cluster>${CLUSTER}</cluster>
        <shard>01</shard>
        <replica>r${i + 1}</replica>
    </macros>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
`;
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      servers.push(
        await startClickHouse({
          ...(opts.log ? { log: opts.log } : {}),
          ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
          ports: ports.slice(3 * i, 3 * i + 3),
          extraConfig: extra(i),
        }),
      );
    }
  } catch (e) {
    for (const s of servers) await s.stop();
    throw e;
  }
  return {
    cluster: CLUSTER,
    servers,
    urls: servers.map((s) => s.url),
    async stop() {
      for (const s of servers) await s.stop();
    },
  };
}

runCliIfMain(import.meta.url, 'clickhouse', startClickHouse);
