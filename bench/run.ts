/**
 * `npm run bench`: device-API write throughput of Pinwheel with durable SQLite storage,
 * against a bare node:http server as the baseline.
 *
 * - Pinwheel runs as a child process (node --import tsx src/main.ts) on 127.0.0.1, with a
 *   temp data dir, SQLite synchronous=FULL unless PINWHEEL_SQLITE_SYNCHRONOUS says otherwise,
 *   and PINWHEEL_LOG_LEVEL=warn.
 * - One template with a double datastream V1 and BENCH_DEVICES devices; each request
 *   writes a new value to V1 of the next device (round-robin over the tokens).
 * - The same autocannon settings are used against both servers, each after a warm-up.
 * - Afterwards, one last known value is written and read back over /external/api/get, then
 *   Pinwheel is stopped and its database is opened to count what landed on disk.
 *
 * Environment (all optional):
 *   BENCH_DURATION=10 BENCH_WARMUP=2 BENCH_CONNECTIONS=50 BENCH_PIPELINING=1 BENCH_DEVICES=50
 *   PINWHEEL_SQLITE_SYNCHRONOUS=FULL|NORMAL   (passed to the server; default FULL)
 *   BENCH_CPU_PROF=<dir>   run the server with --cpu-prof, profiles written to <dir>
 *   BENCH_ONLY=http|tts        run only the device-API (HTTP) or The Things Stack section
 *                              (default: both, HTTP first)
 *   BENCH_ONLY=pinwheel|bare   HTTP section only, and only that target
 *   BENCH_TTS_*                see bench/tts.ts
 *
 * Only 127.0.0.1 is loaded; the whole run is bounded by a watchdog and stops by itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Request, type Result } from 'autocannon';
import SqliteDatabase from 'better-sqlite3';
import { runTtsBench, TTS_BUDGET_SECONDS } from './tts.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';

function intEnv(name: string, def: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${raw}`);
  return n;
}

const DURATION = intEnv('BENCH_DURATION', 10);
const WARMUP = intEnv('BENCH_WARMUP', 2, 0);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 50);
const PIPELINING = intEnv('BENCH_PIPELINING', 1);
const DEVICES = intEnv('BENCH_DEVICES', 50);
const SYNCHRONOUS = process.env.PINWHEEL_SQLITE_SYNCHRONOUS || 'FULL';
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined;
const ONLY = process.env.BENCH_ONLY || undefined;
if (ONLY !== undefined && !['http', 'tts', 'pinwheel', 'bare'].includes(ONLY)) {
  throw new Error(`BENCH_ONLY must be http, tts, pinwheel or bare, got ${ONLY}`);
}
const RUN_HTTP = ONLY !== 'tts';
const RUN_TTS = ONLY === undefined || ONLY === 'tts';
const TARGET_RATIO = 0.7;
const ADMIN = { email: 'bench@example.com', password: 'bench-password-123' };

/** Hard upper bound for the whole run. */
const WATCHDOG_MS = ((RUN_HTTP ? 2 * (WARMUP + DURATION) + 120 : 0) + (RUN_TTS ? TTS_BUDGET_SECONDS : 0)) * 1000;

const children = new Set<ChildProcess>();
let tempDir: string | undefined;

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Pipes a child's output to our stderr, prefixed; returns the child's stdout lines via onLine. */
function pipeOutput(child: ChildProcess, name: string, onLine?: (line: string) => void): void {
  const relay = (stream: NodeJS.ReadableStream | null, isStdout: boolean) => {
    if (!stream) return;
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (isStdout && onLine) onLine(line);
        else if (line.trim() !== '') process.stderr.write(`[${name}] ${line}\n`);
        i = buf.indexOf('\n');
      }
    });
  };
  relay(child.stdout, true);
  relay(child.stderr, false);
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL if the child has not exited after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function startPinwheel(port: number, dataDir: string): ChildProcess {
  const nodeArgs = ['--import', 'tsx'];
  if (CPU_PROF_DIR) {
    fs.mkdirSync(CPU_PROF_DIR, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`);
  }
  const child = spawn(process.execPath, [...nodeArgs, 'src/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PINWHEEL_HOST: HOST,
      PINWHEEL_PORT: String(port),
      PINWHEEL_DATA_DIR: dataDir,
      PINWHEEL_LOG_LEVEL: 'warn',
      PINWHEEL_SQLITE_SYNCHRONOUS: SYNCHRONOUS,
      PINWHEEL_ADMIN_EMAIL: ADMIN.email,
      PINWHEEL_ADMIN_PASSWORD: ADMIN.password,
      DATABASE_URL: '',
      REDIS_URL: '',
    },
  });
  track(child);
  pipeOutput(child, 'pinwheel', (line) => process.stderr.write(`[pinwheel] ${line}\n`));
  return child;
}

async function waitHealthy(base: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pinwheel exited with code ${child.exitCode} before becoming healthy`);
    try {
      const res = await request('GET', `${base}/healthz`, undefined, undefined, 1000);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`pinwheel not healthy after ${timeoutMs} ms`);
}

async function startBare(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-server.ts', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bare server did not print its port')), 15_000);
    child.once('exit', (code) => reject(new Error(`bare server exited with code ${code}`)));
    pipeOutput(child, 'bare', (line) => {
      const n = Number(line.trim());
      if (Number.isInteger(n) && n > 0) {
        clearTimeout(timer);
        resolve(n);
      }
    });
  });
  return { child, port };
}

/**
 * One HTTP request on a fresh connection (agent: false): no pooled keep-alive socket that
 * the server may have closed while the load was running.
 */
function request(
  method: string,
  url: string,
  body?: unknown,
  token?: string,
  timeoutMs = 10_000,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (token) headers.authorization = `Bearer ${token}`;
    const req = http.request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timeout`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function api<T>(base: string, method: string, url: string, body?: unknown, token?: string): Promise<T> {
  const res = await request(method, `${base}${url}`, body, token);
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${url} → ${res.status}: ${res.text}`);
  return (res.text ? JSON.parse(res.text) : undefined) as T;
}

async function setUp(base: string): Promise<string[]> {
  const { token } = await api<{ token: string }>(base, 'POST', '/api/v1/auth/login', ADMIN);
  const template = await api<{ id: string }>(base, 'POST', '/api/v1/templates', { name: 'Bench' }, token);
  await api(
    base,
    'POST',
    `/api/v1/templates/${template.id}/datastreams`,
    { name: 'Value', pin: 'V1', type: 'double' },
    token,
  );
  const tokens: string[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const d = await api<{ id: number; token: string }>(
      base,
      'POST',
      '/api/v1/devices',
      { templateId: template.id, name: `bench-${i}` },
      token,
    );
    tokens.push(d.token);
  }
  return tokens;
}

/** CPU seconds (user+system) consumed so far by a process, from /proc (Linux only). */
function procCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

interface Measured {
  result: Result;
  warmup2xx: number;
  serverCpu: number | undefined; // cores used by the server during the measured run
  loadgenCpu: number; // cores used by this process (autocannon)
}

async function load(name: string, port: number, tokens: string[], serverPid: number | undefined): Promise<Measured> {
  let seq = 0;
  const requests: Request[] = [
    {
      method: 'GET',
      setupRequest: (req) => {
        const n = seq++;
        req.path = `/external/api/update?token=${tokens[n % tokens.length]}&V1=${n}.5`;
        return req;
      },
    },
  ];
  const opts = { url: `http://${HOST}:${port}`, connections: CONNECTIONS, pipelining: PIPELINING, requests };
  let warmup2xx = 0;
  if (WARMUP > 0) {
    log(`${name}: warm-up ${WARMUP} s`);
    const w = await autocannon({ ...opts, duration: WARMUP, title: `${name} warm-up` });
    warmup2xx = w['2xx'];
  }
  log(`${name}: measuring ${DURATION} s (${CONNECTIONS} connections, pipelining ${PIPELINING})`);
  const cpu0 = procCpuSeconds(serverPid);
  const self0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = await autocannon({ ...opts, duration: DURATION, title: name });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = procCpuSeconds(serverPid);
  const self = process.cpuUsage(self0);
  return {
    result,
    warmup2xx,
    serverCpu: cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / wall : undefined,
    loadgenCpu: (self.user + self.system) / 1e6 / wall,
  };
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

function printTable(rows: Array<{ name: string; m: Measured }>): void {
  const header = [
    'target',
    'updates/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'non-2xx',
    'errors',
    'timeouts',
    'server CPU',
    'loadgen CPU',
  ];
  const body = rows.map(({ name, m }) => [
    name,
    m.result.requests.average.toFixed(0),
    m.result.latency.p50.toFixed(1),
    m.result.latency.p99.toFixed(1),
    m.result.latency.max.toFixed(1),
    String(m.result.non2xx),
    String(m.result.errors),
    String(m.result.timeouts),
    m.serverCpu === undefined ? 'n/a' : `${(m.serverCpu * 100).toFixed(0)}%`,
    `${(m.loadgenCpu * 100).toFixed(0)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  console.log(row(header, widths));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of body) console.log(row(r, widths));
}

async function main(): Promise<number> {
  const failures: string[] = [];
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pinwheel-bench-'));
  if (RUN_HTTP) await httpSection(path.join(tempDir, 'data'), failures);
  if (RUN_TTS) {
    if (RUN_HTTP) console.log('');
    failures.push(
      ...(await runTtsBench({
        root: ROOT,
        host: HOST,
        dataDir: path.join(tempDir, 'tts-data'),
        admin: ADMIN,
        log,
        freePort,
        startPinwheel,
        waitHealthy,
        api,
        stopChild,
        track,
        pipeOutput,
        procCpuSeconds,
      })),
    );
  }
  if (failures.length > 0) {
    for (const f of failures) console.log(`CHECK FAILED: ${f}`);
    return 1;
  }
  console.log('checks: ok');
  return 0;
}

/** Device-API writes: Pinwheel against a bare node:http server. */
async function httpSection(dataDir: string, failures: string[]): Promise<void> {
  console.log(
    `Pinwheel device-API write benchmark: ${CONNECTIONS} connections, pipelining ${PIPELINING}, ` +
      `${WARMUP} s warm-up + ${DURATION} s per target, ${DEVICES} devices, SQLite synchronous=${SYNCHRONOUS}, ` +
      `${os.cpus().length} CPUs, node ${process.version}`,
  );

  const rows: Array<{ name: string; m: Measured }> = [];
  let pinwheel: Measured | undefined;
  let bare: Measured | undefined;
  let acked = 0;

  // Pinwheel
  const pwPort = await freePort();
  const base = `http://${HOST}:${pwPort}`;
  let pw = startPinwheel(pwPort, dataDir);
  await waitHealthy(base, pw);
  const tokens = await setUp(base);
  log(`pinwheel up on ${base}, ${tokens.length} devices created`);

  if (ONLY !== 'bare') {
    pinwheel = await load('pinwheel', pwPort, tokens, pw.pid);
    acked = pinwheel.warmup2xx + pinwheel.result['2xx'];
    rows.push({ name: `pinwheel (sqlite ${SYNCHRONOUS})`, m: pinwheel });
  }

  // Baseline
  if (ONLY !== 'pinwheel') {
    const b = await startBare();
    bare = await load('bare', b.port, tokens, b.child.pid);
    rows.push({ name: 'bare node:http', m: bare });
    await stopChild(b.child);
  }

  // Read-back: a last, known value, over the device API.
  const sentinel = 424242.25;
  const firstToken = tokens[0]!;
  const upd = await request('GET', `${base}/external/api/update?token=${firstToken}&V1=${sentinel}`);
  if (upd.status !== 200) failures.push(`final update answered ${upd.status}`);
  else acked += 1;
  const got = (await request('GET', `${base}/external/api/get?token=${firstToken}&V1`)).text;

  // Stop Pinwheel cleanly, then restart it on the same data dir: the value must survive.
  await stopChild(pw, 15_000);
  pw = startPinwheel(pwPort, dataDir);
  await waitHealthy(base, pw);
  const gotAfterRestart = (await request('GET', `${base}/external/api/get?token=${firstToken}&V1`)).text;
  await stopChild(pw, 15_000);

  // Count what is on disk.
  const db = new SqliteDatabase(path.join(dataDir, 'pinwheel.db'), { readonly: true });
  const stored = db.prepare('SELECT COALESCE(SUM(count), 0) AS n FROM history_minute').get() as { n: number };
  const raw = db.prepare('SELECT COUNT(*) AS n FROM history_raw').get() as { n: number };
  const latestRows = db.prepare('SELECT COUNT(*) AS n FROM latest_values').get() as { n: number };
  db.close();
  const storedPoints = stored.n + raw.n;

  console.log('');
  printTable(rows);
  console.log('');
  if (pinwheel && bare) {
    const ratio = pinwheel.result.requests.average / bare.result.requests.average;
    console.log(
      `ratio pinwheel/bare (updates/s): ${ratio.toFixed(2)}  (target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'MET' : 'NOT MET'})`,
    );
  }
  if (pinwheel) {
    console.log(
      `pinwheel non-2xx responses: ${pinwheel.result.non2xx}${pinwheel.result.non2xx === 0 ? ' (ok)' : ' (FAIL)'}`,
    );
    if (pinwheel.result.non2xx !== 0) {
      failures.push(
        `pinwheel answered ${pinwheel.result.non2xx} non-2xx: ${JSON.stringify(pinwheel.result.statusCodeStats)}`,
      );
    }
    if (pinwheel.result.errors !== 0) failures.push(`pinwheel: ${pinwheel.result.errors} connection errors`);
  }
  console.log(`read-back /external/api/get V1 = ${got} (expected ${sentinel}); after restart = ${gotAfterRestart}`);
  if (Number(got) !== sentinel) failures.push(`read-back gave ${got}, expected ${sentinel}`);
  if (Number(gotAfterRestart) !== sentinel) failures.push(`read-back after restart gave ${gotAfterRestart}`);
  // Requests still in flight when autocannon stops may be committed without being counted
  // as answered, so the store may hold a few more points than were acknowledged, never fewer.
  const inFlight = ONLY === 'bare' ? 0 : (WARMUP > 0 ? 2 : 1) * CONNECTIONS * PIPELINING;
  console.log(
    `on disk: ${storedPoints} points in history (acknowledged 2xx: ${acked}, incl. warm-up and read-back; ` +
      `up to ${inFlight} more may be in flight at stop), latest_values rows: ${latestRows.n}`,
  );
  if (storedPoints < acked) failures.push(`only ${storedPoints} points stored for ${acked} acknowledged writes`);
  if (storedPoints > acked + inFlight)
    failures.push(`${storedPoints} points stored, more than ${acked} + ${inFlight} in flight`);
  if (CPU_PROF_DIR) console.log(`server CPU profiles in ${CPU_PROF_DIR}`);
}

async function cleanUp(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, 3000)));
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

const watchdog = setTimeout(() => {
  log(`watchdog: run exceeded ${WATCHDOG_MS / 1000} s, aborting`);
  void cleanUp().finally(() => process.exit(3));
}, WATCHDOG_MS);

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error('[bench] failed:', err);
  code = 1;
} finally {
  await cleanUp();
  clearTimeout(watchdog);
}
process.exit(code);
