// Shared helpers of the browser tests: Debian's Chromium driven by playwright-core, a tiny stand-in
// server for the tracker tests, and a real crm-local for the end-to-end test.
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request as httpRequest } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const demoDir = join(repoRoot, 'functions/local/demo');
export const trackerMinPath = join(repoRoot, 'shared/tracker/tracker.min.js');
export const artifactsDir = join(repoRoot, 'tests/.artifacts');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Launches Debian's Chromium; fails (never skips) when it is missing. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A fresh browser context (own storage) for one visitor. The user agent is left alone: an
 * override does not reach beacons sent while a page unloads, and the daily visitor key hashes the
 * user agent (headless Chrome is not a bot, see docs/beacon.md). `doNotTrack` and
 * `globalPrivacyControl` set the navigator properties the way a browser with those settings does.
 */
export async function newVisitorContext(browser, { doNotTrack = false, globalPrivacyControl = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  if (doNotTrack) await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' }));
  if (globalPrivacyControl) {
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  }
  return context;
}

/**
 * A transparent HTTP proxy in front of `target` that keeps every beacon posted to `/e`. Browser
 * request events do not report beacons sent while a page unloads (navigation, close), so counting
 * beacons has to happen on the wire.
 */
export async function startRecordingProxy(target) {
  const { hostname, port } = new URL(target);
  const beacons = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    const upstream = httpRequest({ hostname, port, path: request.url, method: request.method, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', (error) => response.destroy(error));
    request.pipe(upstream);
    request.on('end', () => {
      if (request.method === 'POST' && new URL(request.url, target).pathname === '/e') {
        beacons.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, beacons, close: () => closeServer(server) };
}

export const eventsOf = (beacons) => beacons.flatMap(({ body }) => JSON.parse(body).events);

/** Waits until `check()` returns a truthy value, polling every 100 ms. */
export async function waitFor(check, { timeout = 10_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last?.stack ?? JSON.stringify(last)}`);
    await sleep(100);
  }
}

const CONTENT_TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.csv': 'text/csv' };

/**
 * Serves the demo pages at /demo/ and the tracker at /t.js the way crm-local does, and keeps every
 * beacon posted to /e, so the tracker can be tested on its own.
 */
export async function startStubServer() {
  const received = [];
  const server = createServer(async (request, response) => {
    const { pathname } = new URL(request.url, 'http://stub');
    if (request.method === 'POST' && pathname === '/e') {
      const chunks = [];
      for await (const chunk of request) chunks.push(chunk);
      received.push({ body: Buffer.concat(chunks).toString('utf8'), contentType: request.headers['content-type'], cookie: request.headers.cookie });
      response.writeHead(202, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
      return response.end('{"accepted":0,"rejected":[]}');
    }
    let file;
    if (pathname === '/t.js') file = trackerMinPath;
    else if (pathname === '/demo/') file = join(demoDir, 'index.html');
    else if (/^\/demo\/[\w-]+\.\w+$/.test(pathname)) file = join(demoDir, pathname.slice('/demo/'.length));
    if (file && existsSync(file)) {
      response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
      return response.end(await readFile(file));
    }
    response.writeHead(404).end('not found');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, received, events: () => eventsOf(received), close: () => closeServer(server) };
}

const run = promisify(execFile);

/** Starts the real crm-local binary ($CRM_LOCAL_BIN) on a free port with a fresh data dir. */
export async function startCrmLocal() {
  const binary = process.env.CRM_LOCAL_BIN;
  if (!binary || !existsSync(binary)) {
    throw new Error('CRM_LOCAL_BIN must point at a built crm-local (cargo build --release -p crm-local)');
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'crm-browser-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(binary, ['--addr', `127.0.0.1:${port}`, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit');
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`crm-local exited with ${child.exitCode}:\n${output}`);
        return (await fetch(`${base}/health`)).status === 200;
      },
      { timeout: 30_000, what: 'crm-local /health' },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const { stdout } = await run(binary, ['token', '--data-dir', dataDir, '--role', 'admin']);
  const token = stdout.trim();
  const api = async (path) => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET ${path} → ${response.status}: ${text}`);
    const envelope = JSON.parse(text);
    if (envelope.success !== true) throw new Error(`GET ${path} → ${text}`);
    return envelope.data;
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  };
  /** Every item of the store as `crm-local dump` prints it (deflated values inflated). */
  const dump = async () => (await run(binary, ['dump', '--data-dir', dataDir], { maxBuffer: 64 * 1024 * 1024 })).stdout;
  return { base, dataDir, api, dump, stop, output: () => output };
}

/** Closes a server without waiting for the browser to drop its keep-alive connections. */
function closeServer(server) {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  return closed;
}

async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every file under `dir`, recursively, as raw bytes. */
export async function readAllFiles(dir) {
  const files = [];
  for (const entry of await readdir(dir, { recursive: true })) {
    const path = join(dir, entry);
    if ((await stat(path)).isFile()) files.push({ path, bytes: await readFile(path) });
  }
  return files;
}
