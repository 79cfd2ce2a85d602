// @ts-check
// Shared plumbing for the local (no Docker) Kafka and ClickHouse starters: free ports, polling,
// child processes that cannot outlive us, clean stops. Plain Node ESM so `node` runs it with no
// build step and no dependency.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdtempSync,
  rmSync,
  openSync,
  readFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A free TCP port on 127.0.0.1 (the kernel picks it: listen on port 0, read, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** `count` distinct free ports. Held open together so the kernel cannot hand one out twice. */
export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const srv = net.createServer();
      await new Promise((resolve, reject) => {
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve(undefined));
      });
      servers.push(srv);
    }
    return servers.map((s) => {
      const a = s.address();
      return typeof a === 'object' && a ? a.port : 0;
    });
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `probe` until it returns a truthy value or `timeoutMs` passes. `alive()` lets the caller
 * stop early when the server process has already died (no point waiting 60 s for a corpse).
 */
export async function waitFor(what, probe, { timeoutMs = 60_000, intervalMs = 200, alive } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    if (alive && !alive()) throw new Error(`${what}: process exited before it was ready`);
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `${what}: not ready after ${timeoutMs} ms${lastError ? ` (last error: ${lastError.message})` : ''}`,
  );
}

/** True when a TCP connect to 127.0.0.1:port succeeds. */
export function canConnect(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export function makeTempDir(prefix) {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Run a command to completion; reject with its output when it fails. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out.slice(-4000)}`));
    });
  });
}

/**
 * Start a long-running server whose output goes to `logFile`, plus a watchdog shell that holds
 * a pipe from us: if this Node process dies by any means (kill -9 included) the pipe closes,
 * the watchdog's `read` returns, and it kills the server and removes its temp dir. Without it
 * a crashed test run would leave a 500 MB JVM behind on a 2-core machine.
 */
export function spawnServer(cmd, args, { logFile, cwd, env, cleanupDir }) {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd] });
  let exited = child.exitCode !== null;
  child.on('exit', () => (exited = true));
  const watchdog = spawn(
    'sh',
    [
      '-c',
      // Block until stdin closes. A clean stop() says "stopped" first (it kills and cleans up
      // itself, and a restart keeps the data dir); plain EOF means we died: TERM, wait, KILL, rm.
      'while read -r l; do [ "$l" = stopped ] && exit 0; done; kill -TERM "$1" 2>/dev/null; ' +
        'i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; ' +
        'kill -KILL "$1" 2>/dev/null; [ -n "$2" ] && rm -rf "$2"; exit 0',
      'watchdog',
      String(child.pid),
      cleanupDir ?? '',
    ],
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
  );
  watchdog.unref();
  // The pipe must not keep our event loop alive either (stdin is a net.Socket: unref() is public).
  /** @type {import('node:net').Socket} */ (/** @type {unknown} */ (watchdog.stdin)).unref();
  watchdog.stdin?.on('error', () => {});

  return {
    child,
    alive: () => !exited,
    /** SIGTERM, wait up to `graceMs`, SIGKILL; then the watchdog is released. */
    async stop(graceMs = 10_000) {
      if (!exited) {
        child.kill('SIGTERM');
        const deadline = Date.now() + graceMs;
        while (!exited && Date.now() < deadline) await sleep(50);
        if (!exited) {
          child.kill('SIGKILL');
          while (!exited) await sleep(20);
        }
      }
      watchdog.stdin?.end('stopped\n');
    },
  };
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}

export function tail(file, chars = 3000) {
  if (!existsSync(file)) return '';
  const s = readFileSync(file, 'utf8');
  return s.slice(-chars);
}

/**
 * `node <file>`: run `start()` as a CLI (runCli) when `moduleUrl` is the script node was given.
 */
export function runCliIfMain(moduleUrl, name, start) {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  runCli(name, start).catch((e) => {
    process.stderr.write(`${e.stack ?? e}\n`);
    process.exit(1);
  });
}

/**
 * Run `start()` as a CLI: print the connection variables, stay up until SIGINT/SIGTERM, stop.
 * Used by `node deploy/local/kafka/start.mjs` and its ClickHouse twin.
 */
export async function runCli(name, start) {
  const t0 = performance.now();
  const svc = await start({ log: (m) => process.stderr.write(`[${name}] ${m}\n`) });
  for (const [k, v] of Object.entries(svc.env)) process.stdout.write(`${k}=${v}\n`);
  process.stderr.write(
    `[${name}] ready in ${Math.round(performance.now() - t0)} ms; Ctrl-C stops\n`,
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await svc.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * Make sure the jars a pom.xml resolves are in `dir`: download through Maven only when the dir
 * is missing or was filled from another pom.xml (its hash is kept in a marker file). Maven
 * writes to a temp dir that is renamed into place, so a run killed halfway leaves no half cache.
 * `mustHave`: the prefix of a jar that proves the copy worked.
 */
export async function ensureMavenLibs(pom, dir, mustHave, log = (_m) => {}) {
  const MARKER = '.pom-sha256';
  const want = createHash('sha256').update(readFileSync(pom)).digest('hex');
  const marker = path.join(dir, MARKER);
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === want) return dir;
  log(`resolving ${mustHave} jars from Maven Central into ${dir} (first run only)`);
  mkdirSync(path.dirname(dir), { recursive: true });
  const staging = `${dir}.tmp-${process.pid}`;
  removeDir(staging);
  await run('mvn', [
    '-q',
    '-B',
    '-f',
    pom,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${staging}`,
  ]);
  if (!readdirSync(staging).some((f) => f.startsWith(mustHave))) {
    throw new Error(`maven finished but ${staging} holds no ${mustHave} jar`);
  }
  writeFileSync(path.join(staging, MARKER), want);
  removeDir(dir);
  renameSync(staging, dir);
  return dir;
}
