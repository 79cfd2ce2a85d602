#!/usr/bin/env node
/**
 * Builds the Kafka Streams peer if needed and runs it.
 *
 *   node test/peers/kafka-streams/run.mjs --brokers 127.0.0.1:9092 --topic pos.events \
 *     [--events N] [--output TOPIC] [--app-id ID] [--threads 1]
 *   node test/peers/kafka-streams/run.mjs --build-only
 *
 * Build: `mvn -q -o package` (compile, the TopologyTestDriver test, jar, target/classpath.txt),
 * and `mvn -q package` online if the offline build fails (a fresh ~/.m2). Skipped when the jar
 * and classpath.txt are newer than pom.xml and every file under src/.
 * Run: java on the jar + classpath.txt; its stdout passes through: a {"started":...} line when
 * it starts the streams, and {"events","seconds","eventsPerSec"} once the application's
 * committed offsets reach the input's end (or N). The java process is killed if this script
 * is interrupted or terminated, and when it exits.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const jar = path.join(dir, 'target', 'tillwatch-streams-peer.jar');
const cpFile = path.join(dir, 'target', 'classpath.txt');

const argv = process.argv.slice(2);
const buildOnly = argv.includes('--build-only');
const passArgs = argv.filter((a) => a !== '--build-only');

function newestSource() {
  let newest = statSync(path.join(dir, 'pom.xml')).mtimeMs;
  const walk = (d) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(path.join(dir, 'src'));
  return newest;
}

function build() {
  if (
    existsSync(jar) &&
    existsSync(cpFile) &&
    Math.min(statSync(jar).mtimeMs, statSync(cpFile).mtimeMs) > newestSource()
  )
    return;
  const mvn = (extra) =>
    spawnSync('mvn', ['-q', '-B', ...extra, 'package'], { cwd: dir, stdio: ['ignore', 2, 2] });
  let r = mvn(['-o']);
  if (r.error) throw new Error(`mvn: ${r.error.message}`);
  if (r.status !== 0) {
    process.stderr.write('[peer] offline build failed, building online\n');
    r = mvn([]);
  }
  if (r.status !== 0) throw new Error(`mvn package failed (exit ${r.status})`);
}

try {
  build();
} catch (e) {
  process.stderr.write(`[peer] ${e.message}\n`);
  process.exit(3);
}
if (buildOnly) process.exit(0);

const cp = [jar, readFileSync(cpFile, 'utf8').trim()].join(path.delimiter);
const java = spawn(
  'java',
  [
    // throughput over pause times, a fixed heap: the state is tens of MB
    '-XX:+UseParallelGC',
    '-Xms1g',
    '-Xmx2g',
    '-cp',
    cp,
    'dev.tillwatch.peer.PeerApp',
    ...passArgs,
  ],
  { stdio: ['ignore', 'inherit', 'inherit'] },
);
const kill = () => {
  if (java.exitCode === null && java.signalCode === null) java.kill('SIGKILL');
};
process.on('exit', kill);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    kill();
    process.exit(128);
  });
java.on('error', (e) => {
  process.stderr.write(`[peer] java: ${e.message}\n`);
  process.exit(3);
});
java.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
