// @ts-check
// Apache ZooKeeper (standalone) as a plain process: the server's jars come from Maven Central
// (pom.xml beside this file), the JVM is the machine's Java 17. It listens on a free 127.0.0.1
// port with the admin server off; everything lives in a temp dir that stop() deletes.
// ClickHouse 18.16's replicated tables need it (ClickHouse Keeper came later).
//
//   node deploy/local/zookeeper/start.mjs          prints ZOOKEEPER=127.0.0.1:<port>, Ctrl-C stops
//   import { startZooKeeper } from './start.mjs'   const zk = await startZooKeeper(); ...; await zk.stop()
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ensureMavenLibs,
  freePorts,
  makeTempDir,
  removeDir,
  runCliIfMain,
  spawnServer,
  tail,
  waitFor,
} from '../lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ZOOKEEPER_LIBS = path.resolve(here, '../.cache/zookeeper-libs');

/** The server's jars in the cache dir (lib.mjs, ensureMavenLibs). */
export function ensureZooKeeperLibs(log = (_m) => {}) {
  return ensureMavenLibs(path.join(here, 'pom.xml'), ZOOKEEPER_LIBS, 'zookeeper-', log);
}

/**
 * The four-letter word `srvr`: true once the server serves requests ("Mode: standalone"). `ruok`
 * says "imok" as soon as the process listens, also while its server failed to start.
 */
export function serving(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let out = '';
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.on('connect', () => s.write('srvr'));
    s.on('data', (d) => (out += d));
    s.on('end', () => done(/^Mode: /m.test(out)));
    s.on('error', () => done(false));
  });
}

const LOGBACK = `<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>\${zookeeper.log.file}</file>
    <encoder><pattern>%d{ISO8601} %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="FILE"/></root>
</configuration>
`;

/**
 * Start a standalone ZooKeeper on a free loopback port.
 * @param {{ log?: (m: string) => void, readyTimeoutMs?: number }} [opts]
 */
export async function startZooKeeper(opts = {}) {
  const log = opts.log ?? (() => {});
  const libs = await ensureZooKeeperLibs(log);
  const dir = makeTempDir('tillwatch-zookeeper-');
  try {
    mkdirSync(path.join(dir, 'data'));
    const [port] = await freePorts(1);
    const cfg = path.join(dir, 'zoo.cfg');
    writeFileSync(
      cfg,
      [
        `dataDir=${dir}/data`,
        `clientPort=${port}`,
        'clientPortAddress=127.0.0.1',
        'tickTime=2000',
        'initLimit=10',
        'syncLimit=5',
        'maxClientCnxns=200',
        'admin.enableServer=false',
        '4lw.commands.whitelist=srvr',
        // a test's throwaway data: no snapshots piling up
        'autopurge.purgeInterval=0',
        '',
      ].join('\n'),
    );
    const logback = path.join(dir, 'logback.xml');
    writeFileSync(logback, LOGBACK);
    const logFile = path.join(dir, 'server.log');
    const args = [
      '-Xms64m',
      '-Xmx256m',
      '-XX:+UseSerialGC',
      `-Dlogback.configurationFile=${logback}`,
      `-Dzookeeper.log.file=${logFile}`,
      '-Dzookeeper.admin.enableServer=false',
      '-cp',
      `${libs}/*`,
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      cfg,
    ];
    const launch = async () => {
      const server = spawnServer('java', args, {
        logFile: path.join(dir, 'stdout.log'),
        cwd: dir,
        cleanupDir: dir,
      });
      try {
        await waitFor('zookeeper srvr', () => serving(port), {
          timeoutMs: opts.readyTimeoutMs ?? 60_000,
          alive: server.alive,
        });
      } catch (e) {
        const out = `${tail(path.join(dir, 'stdout.log'))}\n${tail(logFile)}`;
        await server.stop(2000);
        throw new Error(`${/** @type {Error} */ (e).message}\n--- zookeeper log tail ---\n${out}`);
      }
      return server;
    };
    const server = await launch();
    log(`zookeeper ready at 127.0.0.1:${port} (data in ${dir})`);
    return {
      host: '127.0.0.1',
      port,
      env: { ZOOKEEPER: `127.0.0.1:${port}` },
      dir,
      async stop() {
        await server.stop(10_000);
        removeDir(dir);
      },
    };
  } catch (e) {
    removeDir(dir);
    throw e;
  }
}

runCliIfMain(import.meta.url, 'zookeeper', startZooKeeper);
