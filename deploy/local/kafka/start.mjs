// @ts-check
// Apache Kafka in KRaft mode as a plain process: the broker's jars come from Maven Central
// (pom.xml beside this file), the JVM is the machine's Java 17. No Docker, no ZooKeeper, no
// download site. One node is broker and controller at once; everything lives in a temp dir
// that stop() deletes.
//
//   node deploy/local/kafka/start.mjs          prints KAFKA_BROKERS=127.0.0.1:<port>, Ctrl-C stops
//   import { startKafka } from './start.mjs'   const k = await startKafka(); ...; await k.stop()
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePorts,
  makeTempDir,
  removeDir,
  run,
  runCliIfMain,
  spawnServer,
  tail,
  waitFor,
  canConnect,
  sleep,
  ensureMavenLibs,
} from '../lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pom = path.join(here, 'pom.xml');
export const KAFKA_LIBS = path.resolve(here, '../.cache/kafka-libs');

/** The broker's jars in the cache dir (lib.mjs, ensureMavenLibs). */
export function ensureKafkaLibs(log = (_m) => {}) {
  return ensureMavenLibs(pom, KAFKA_LIBS, 'kafka_2.13-', log);
}

/** Kafka's Uuid is 16 random bytes in url-safe base64; one starting with '-' reads as a CLI flag. */
function clusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * One Metadata v4 request over a raw socket (v4 is the oldest version Kafka 4 still accepts and
 * every broker since 1.0 speaks): ready means at least one broker and an elected controller in
 * the answer, not just an open port. Written by hand so this script needs no npm package.
 */
export function metadataProbe(port, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const clientId = Buffer.from('tillwatch-probe');
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
    let o = 0;
    o = body.writeInt16BE(3, o); // api_key Metadata
    o = body.writeInt16BE(4, o); // api_version
    o = body.writeInt32BE(1, o); // correlation_id
    o = body.writeInt16BE(clientId.length, o);
    o += clientId.copy(body, o);
    o = body.writeInt32BE(-1, o); // topics: null = all
    body.writeInt8(0, o); // allow_auto_topic_creation
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0]), body]);
    frame.writeInt32BE(body.length, 0);

    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const fail = (e) => {
      sock.destroy();
      reject(e);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error('metadata request timed out')));
    sock.on('error', fail);
    sock.on('connect', () => sock.write(frame));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
      sock.destroy();
      try {
        let p = 4 + 4 + 4; // size, correlation_id, throttle_time_ms
        const brokers = buf.readInt32BE(p);
        p += 4;
        for (let i = 0; i < brokers; i++) {
          p += 4; // node_id
          p += 2 + buf.readInt16BE(p); // host
          p += 4; // port
          const rack = buf.readInt16BE(p);
          p += 2 + (rack > 0 ? rack : 0);
        }
        const cid = buf.readInt16BE(p);
        p += 2 + (cid > 0 ? cid : 0);
        const controllerId = buf.readInt32BE(p);
        resolve({ brokers, controllerId });
      } catch (e) {
        reject(e);
      }
    });
  });
}

function serverProperties({ dataDir, port, controllerPort, partitions }) {
  return `# written by deploy/local/kafka/start.mjs for one throwaway test broker
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${dataDir}
# Topics are created on purpose (ensureTopics) with their own partitions and cleanup policy:
# an auto-created pos.rollups would silently get delete instead of compact, so typos fail loudly.
auto.create.topics.enable=false
num.partitions=${partitions}
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
# 50 offset partitions (the default) cost ~2 s of leader elections on the first consumer here.
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# A lone test consumer should not wait the default 3 s for company before its first rebalance.
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
num.io.threads=2
num.network.threads=2
num.recovery.threads.per.data.dir=1
`;
}

const LOG4J2 = `status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.state.name = state.change.logger
logger.state.level = WARN
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
`;

const JAVA_OPTS = [
  '-Xms128m',
  '-Xmx512m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-Djava.awt.headless=true',
];

/**
 * Start a single-node KRaft broker on free loopback ports. The handle can also `kill()` the
 * broker (SIGKILL, as a crash would) and `restart()` it on the same ports and data dir: the
 * broker-kill suite uses that to take Kafka away mid-stream.
 * @param {{ log?: (m: string) => void, partitions?: number, readyTimeoutMs?: number }} [opts]
 * @returns {Promise<{ brokers: string, env: Record<string, string>, dir: string, logFile: string, readonly pid: number, stop: () => Promise<void>, kill: () => Promise<void>, restart: () => Promise<void> }>}
 */
export async function startKafka(opts = {}) {
  const log = opts.log ?? (() => {});
  const libs = await ensureKafkaLibs(log);
  const cp = `${libs}/*`;
  const dir = makeTempDir('tillwatch-kafka-');
  const logFile = path.join(dir, 'server.log');
  try {
    const [port, controllerPort] = await freePorts(2);
    const props = path.join(dir, 'server.properties');
    const log4j = path.join(dir, 'log4j2.properties');
    writeFileSync(
      props,
      serverProperties({
        dataDir: path.join(dir, 'data'),
        port,
        controllerPort,
        partitions: opts.partitions ?? 4,
      }),
    );
    writeFileSync(log4j, LOG4J2);
    const jvm = [...JAVA_OPTS, `-Dlog4j2.configurationFile=${log4j}`, '-cp', cp];
    // A short-lived JVM: C1 only starts it ~30% faster and it runs for a second.
    await run('java', [
      '-XX:TieredStopAtLevel=1',
      ...jvm,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId(),
      '-c',
      props,
    ]);
    const brokers = `127.0.0.1:${port}`;
    const launch = async () => {
      const server = spawnServer('java', [...jvm, 'kafka.Kafka', props], {
        logFile,
        cwd: dir,
        cleanupDir: dir,
      });
      try {
        await waitFor('kafka port', () => canConnect(port), {
          timeoutMs: opts.readyTimeoutMs ?? 90_000,
          alive: server.alive,
        });
        await waitFor(
          'kafka metadata',
          async () => {
            const m = await metadataProbe(port);
            return m.brokers >= 1 && m.controllerId >= 0;
          },
          { timeoutMs: 30_000, alive: server.alive },
        );
      } catch (e) {
        const out = tail(logFile);
        await server.stop(10_000);
        throw new Error(`${/** @type {Error} */ (e).message}\n--- kafka log tail ---\n${out}`);
      }
      return server;
    };
    let server = await launch();
    log(`kafka ready at ${brokers} (data in ${dir})`);
    return {
      brokers,
      env: { KAFKA_BROKERS: brokers },
      dir,
      logFile,
      /** The broker JVM's pid (a new one after restart()). */
      get pid() {
        return /** @type {number} */ (server.child.pid);
      },
      /** SIGTERM, wait, SIGKILL; deletes the data dir. */
      async stop() {
        await server.stop(10_000);
        removeDir(dir);
      },
      /** SIGKILL only (kill -9: no shutdown hook, no controlled shutdown); data dir kept for restart(). */
      async kill() {
        server.child.kill('SIGKILL');
        while (server.alive()) await sleep(20);
        await server.stop(0);
      },
      /** Start again on the same ports, config and data dir (log recovery after a kill()). */
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

runCliIfMain(import.meta.url, 'kafka', startKafka);
