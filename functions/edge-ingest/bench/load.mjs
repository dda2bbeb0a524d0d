// Edge benchmark: the time a 20-event beacon costs inside workerd, measured from outside.
//
//   node load.mjs [--requests N] [--scenario beacon|unknown_site|health] TARGET...
//
// TARGET is `name=url` or `name=url@pgid`. The first target is the worker under test; the others
// are baselines it is compared with (tests/edge.sh passes a worker answering 204 and a JavaScript
// worker doing the same I/O as ours, see bench/same-io-worker.js).
//
// scenario: "beacon" (default; accepted, anonymized, queued), "unknown_site" (the same beacon for
// a site that does not exist: parsed, then refused with 403, nothing queued) or "health"
// (GET /health: the cost of the wasm module and routing alone).
//
// Sends the same requests (one 20-event beacon, a fresh session each) to every target, interleaved
// in blocks of 100 so all see the same machine load, one request at a time over a kept-alive
// connection. Workers freeze their clock during a request, so only an outside clock can time it.
//
// With a process group id (tests/edge.sh starts each worker's bench/serve.mjs with setsid and
// passes its pid), it also reads from /proc the CPU time (user + system) that the group's workerd
// processes spent from the first measured request until they are idle again (queue consumers
// included: it waits until no workerd of any target uses more than 5 ms of CPU per second, at
// most 60 s), divided by the requests. CPU time moves less than latency when other programs load
// the machine.
//
// Prints one JSON object: per target, latency statistics and workerd CPU per request; per
// baseline, the worker's extra time per request over it (p50, mean, CPU) and the ratios.
import fs from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";

const usage = "usage: node load.mjs [--requests N] [--scenario beacon|unknown_site|health] name=url[@pgid]...";
const options = { requests: 3000, scenario: "beacon" };
const targets = [];
const args = process.argv.slice(2);
for (let index = 0; index < args.length; index++) {
  const arg = args[index];
  if (arg === "--requests") options.requests = Number(args[++index]);
  else if (arg === "--scenario") options.scenario = args[++index];
  else {
    const match = /^([\w-]+)=(https?:\/\/[^@]+)(?:@(\d+))?$/.exec(arg);
    if (!match) {
      console.error(`${usage}\nnot a target: ${arg}`);
      process.exit(2);
    }
    targets.push({ name: match[1], base: match[2], pgid: match[3], samples: [] });
  }
}
if (targets.length < 2 || !(options.requests > 0) || !["beacon", "unknown_site", "health"].includes(options.scenario)) {
  console.error(usage);
  process.exit(2);
}
const { requests, scenario } = options;
const block = 100;
const warmup = 200;
const path = scenario === "health" ? "/health" : "/e";
const expected = { beacon: 202, unknown_site: 403, health: 200 }[scenario];

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function beacon(serial) {
  const now = Date.now();
  const kinds = ["page_view", "scroll", "click", "page_leave", "cta_click"];
  const events = Array.from({ length: 20 }, (_, index) => {
    const t = kinds[index % kinds.length];
    const event = { id: `b${serial}-${index}`, t, ts: now - 20_000 + index * 500 };
    if (t === "page_view") {
      event.url = `https://shop.example/products/${index}?utm_source=news&email=jane@example.com`;
      event.title = "Product page, call +44 20 7946 0958";
      event.ref = "https://www.google.com/";
    } else if (t === "scroll") {
      event.props = { depth: 10 + index };
    } else if (t === "page_leave") {
      event.props = { engaged_ms: 5000 + index };
    } else {
      event.props = { selector: "main>button.buy", tag: "button", text: "Buy now", cta: "buy" };
    }
    return event;
  });
  return JSON.stringify({
    v: 1, site: scenario === "unknown_site" ? "nosuchsite" : "demo", sid: `bench-${serial}`, vid: `visitor-${serial % 500}`,
    consent: { analytics: true, marketing: false }, events,
  });
}

function send(url, body) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request(url, {
      method: body === null ? "GET" : "POST",
      agent,
      headers: {
        "content-type": "text/plain;charset=UTF-8",
        "content-length": body === null ? 0 : Buffer.byteLength(body),
        origin: "https://shop.example",
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
        "cf-connecting-ip": "198.51.100.23",
      },
    }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode, ms: performance.now() - started }));
    });
    request.on("error", reject);
    request.end(body ?? undefined);
  });
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { n: sorted.length, mean_ms: mean, p50_ms: at(0.5), p90_ms: at(0.9), p99_ms: at(0.99) };
}

const clockTicks = 100; // USER_HZ on Linux
// CPU seconds of the processes of a process group, workerd and the rest (serve.mjs's node) apart.
function groupCpu(pgid) {
  const totals = { workerd: 0, other: 0 };
  if (!pgid) return totals;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
    if (fields[2] !== String(pgid)) continue;
    const seconds = (Number(fields[11]) + Number(fields[12])) / clockTicks;
    totals[comm === "workerd" ? "workerd" : "other"] += seconds;
  }
  return totals;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const loadAverage = () => Number(fs.readFileSync("/proc/loadavg", "utf8").split(" ")[0]);

// Until every target's workerd is idle again: queue consumers run after the last answer.
async function waitUntilIdle() {
  const started = performance.now();
  let previous = targets.map((target) => groupCpu(target.pgid).workerd);
  while (performance.now() - started < 60_000) {
    await sleep(1000);
    const now = targets.map((target) => groupCpu(target.pgid).workerd);
    const busy = now.some((seconds, index) => seconds - previous[index] > 0.005);
    previous = now;
    if (!busy) break;
  }
  return (performance.now() - started) / 1000;
}

const payload = (serial) => (scenario === "health" ? null : beacon(serial));
for (const target of targets) target.url = new URL(path, target.base).href;

let serial = 0;
for (const target of targets) {
  for (let i = 0; i < warmup; i++) await send(target.url, payload(serial++));
}
await waitUntilIdle();
const loadBefore = loadAverage();
const cpuBefore = targets.map((target) => groupCpu(target.pgid));
for (let done = 0; done < requests; done += block) {
  for (const target of targets) {
    for (let i = 0; i < block && done + i < requests; i++) {
      const { status, ms } = await send(target.url, payload(serial++));
      // The worker must give the scenario's answer; a baseline any success.
      const wrong = target === targets[0] ? status !== expected : status < 200 || status > 299;
      if (wrong) {
        console.error(`${target.name} answered ${status}`);
        process.exit(1);
      }
      target.samples.push(ms);
    }
  }
}
agent.destroy();
const loadAfterRequests = loadAverage();
const settleSeconds = await waitUntilIdle();
const cpuAfter = targets.map((target) => groupCpu(target.pgid));

const measured = targets.map((target, index) => {
  const result = { name: target.name, ...stats(target.samples) };
  if (target.pgid) {
    result.workerd_cpu_ms_per_request = (1000 * (cpuAfter[index].workerd - cpuBefore[index].workerd)) / requests;
    result.runner_cpu_ms_per_request = (1000 * (cpuAfter[index].other - cpuBefore[index].other)) / requests;
  }
  return result;
});
const [worker, ...baselines] = measured;
const result = {
  scenario,
  requests_each: requests,
  beacon_bytes: Buffer.byteLength(beacon(0)),
  events_per_beacon: 20,
  load_average: { before: loadBefore, after_requests: loadAfterRequests },
  settle_seconds: settleSeconds,
  targets: measured,
  extra_over: Object.fromEntries(baselines.map((baseline) => {
    const extra = {
      p50_ms: worker.p50_ms - baseline.p50_ms,
      mean_ms: worker.mean_ms - baseline.mean_ms,
      ratio_mean: worker.mean_ms / baseline.mean_ms,
    };
    if (worker.workerd_cpu_ms_per_request !== undefined && baseline.workerd_cpu_ms_per_request !== undefined) {
      extra.workerd_cpu_ms = worker.workerd_cpu_ms_per_request - baseline.workerd_cpu_ms_per_request;
      extra.ratio_workerd_cpu = worker.workerd_cpu_ms_per_request / baseline.workerd_cpu_ms_per_request;
    }
    return [baseline.name, extra];
  })),
};
console.log(JSON.stringify(result, null, 2));
