// Edge benchmark: the time a 20-event beacon costs inside workerd, measured from outside.
//
//   node load.mjs <worker-url> <baseline-url> [requests] [scenario]
//
// scenario: "beacon" (default; accepted, anonymized, queued), "unknown_site" (the same beacon for
// a site that does not exist: parsed, then refused with 403, nothing queued) or "health"
// (GET /health: the cost of the wasm module and routing alone).
//
// Sends the same POST /e (one 20-event beacon, a fresh session per request) to the real worker
// and to a trivial worker answering 204, interleaved in blocks so both see the same machine load,
// one request at a time over a kept-alive connection. Workers freeze their clock during a request,
// so only an outside clock can time it. Prints one JSON object: per-request latency statistics
// for each, their ratio and the mean and median differences (our extra time per beacon).
//
// With WORKER_PGID and BASELINE_PGID (the process groups of the two `wrangler dev`, as
// tests/edge.sh starts them with setsid), it also reads the CPU time (/proc, user + system) the
// workerd processes of each group spent during the measured phase, divided by the requests:
// unlike latency, that barely moves when other programs load the machine. It includes everything
// the worker's workerd did meanwhile (for the real worker: the local Queue and its consumer
// forwarding the beacons to SQS).
import fs from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";

const [workerUrl, baselineUrl, requestsArg] = process.argv.slice(2);
if (!workerUrl || !baselineUrl) {
  console.error("usage: node load.mjs <worker-url> <baseline-url> [requests]");
  process.exit(2);
}
const requests = Number(requestsArg ?? 3000);
const scenario = process.argv[5] ?? "beacon";
if (!["beacon", "unknown_site", "health"].includes(scenario)) {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}
const block = 100;
const warmup = 200;

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

function post(url, body) {
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

const path = scenario === "health" ? "/health" : "/e";
const expected = { beacon: 202, unknown_site: 403, health: 200 }[scenario];
const clockTicks = 100; // USER_HZ on Linux
// CPU seconds of the processes of a process group, workerd and the rest (wrangler's node) apart.
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

const targets = [
  { name: "worker", url: new URL(path, workerUrl).href, expect: expected, samples: [], pgid: process.env.WORKER_PGID },
  { name: "baseline", url: new URL(path, baselineUrl).href, expect: 204, samples: [], pgid: process.env.BASELINE_PGID },
];
const payload = (serial) => (scenario === "health" ? null : beacon(serial));

let serial = 0;
for (const target of targets) {
  for (let i = 0; i < warmup; i++) await post(target.url, payload(serial++));
}
const cpuBefore = targets.map((target) => groupCpu(target.pgid));
for (let done = 0; done < requests; done += block) {
  for (const target of targets) {
    for (let i = 0; i < block && done + i < requests; i++) {
      const { status, ms } = await post(target.url, payload(serial++));
      if (status !== target.expect) {
        console.error(`${target.name} answered ${status}, expected ${target.expect}`);
        process.exit(1);
      }
      target.samples.push(ms);
    }
  }
}
agent.destroy();
// Let the queue consumer forward the last batches (its batch timeout is 2 s) before reading CPU.
await new Promise((resolve) => setTimeout(resolve, 4000));
const cpuAfter = targets.map((target) => groupCpu(target.pgid));
const cpuPerRequest = (index, kind) => (1000 * (cpuAfter[index][kind] - cpuBefore[index][kind])) / requests;

const [worker, baseline] = targets.map((target) => stats(target.samples));
if (targets.every((target) => target.pgid)) {
  worker.workerd_cpu_ms_per_request = cpuPerRequest(0, "workerd");
  worker.wrangler_cpu_ms_per_request = cpuPerRequest(0, "other");
  baseline.workerd_cpu_ms_per_request = cpuPerRequest(1, "workerd");
  baseline.wrangler_cpu_ms_per_request = cpuPerRequest(1, "other");
}
const result = {
  scenario,
  requests_each: requests,
  beacon_bytes: Buffer.byteLength(beacon(0)),
  events_per_beacon: 20,
  worker,
  baseline,
  ratio_mean: worker.mean_ms / baseline.mean_ms,
  extra_mean_ms: worker.mean_ms - baseline.mean_ms,
  extra_p50_ms: worker.p50_ms - baseline.p50_ms,
};
if (worker.workerd_cpu_ms_per_request !== undefined) {
  result.extra_workerd_cpu_ms = worker.workerd_cpu_ms_per_request - baseline.workerd_cpu_ms_per_request;
  result.ratio_workerd_cpu = worker.workerd_cpu_ms_per_request / baseline.workerd_cpu_ms_per_request;
}
console.log(JSON.stringify(result, null, 2));
