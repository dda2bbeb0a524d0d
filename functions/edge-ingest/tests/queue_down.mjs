// The Queue refusing a beacon, in workerd: tests/edge.sh starts the worker in queue delivery with
// its producer binding removed, and this posts one beacon with a Content-Length (read at once) and
// one chunked (read as a stream). Neither may be answered 202: the client must get the contract's
// 503 `unavailable`, with the CORS headers, so that it retries later.
//
//   node queue_down.mjs <worker url>
const [url] = process.argv.slice(2);
const origin = "https://shop.example";
const beacon = JSON.stringify({
  v: 1, site: "demo", sid: "sid-down", vid: "vid-down",
  consent: { analytics: true, marketing: false },
  events: [{ id: "down-1", t: "page_view", ts: Date.now() - 1000, url: `${origin}/` }],
});
const headers = { "content-type": "text/plain", origin };

const declared = { body: beacon };
const chunked = {
  body: new ReadableStream({ start(controller) { controller.enqueue(new TextEncoder().encode(beacon)); controller.close(); } }),
  duplex: "half",
};
let failed = false;
for (const [name, init] of Object.entries({ declared, chunked })) {
  const response = await fetch(`${url}/e`, { method: "POST", headers, ...init });
  const body = await response.json().catch(() => null);
  const corsOrigin = response.headers.get("access-control-allow-origin");
  const ok = response.status === 503 && body?.error?.code === "unavailable" && corsOrigin === origin;
  console.log(`${ok ? "ok" : "FAILED"}: ${name} body answered ${response.status} ${JSON.stringify(body)} (allow-origin ${corsOrigin})`);
  failed ||= !ok;
}
process.exit(failed ? 1 : 0);
