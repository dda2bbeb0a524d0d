// The worker's entry (wrangler.toml's `main`): worker-build's entry class (build/index.js: the Rust
// crate's `#[event(fetch)]` and `#[event(queue)]` handlers, with its recovery after a panic), and
// one shortcut for the request that matters. A beacon that declares its length is read here, its
// decisions are one synchronous call into WebAssembly (src/glue/beacon.rs: the same crm-domain
// rules as the Rust fetch handler), and its message goes to the Queue from here. That spares
// each beacon the Rust futures behind two awaits and a promise, about 0.1 ms in workerd
// (docs/performance.md). Every other request goes to the Rust fetch handler unchanged.
import Worker from "./build/index.js";

// The Queue producer binding (wrangler.toml) and its options: the message is JSON text.
const EVENTS_QUEUE = "CRM_EVENTS";
const AS_TEXT = { contentType: "text" };

export default class EdgeIngest extends Worker {
  async fetch(request) {
    if (!this.is_plain_beacon(request)) return super.fetch(request);
    const body = new Uint8Array(await request.arrayBuffer());
    const [response, message] = await this.accept_beacon(request, body, this.env, this.ctx);
    if (message === undefined) return response;
    try {
      await this.env[EVENTS_QUEUE].send(message, AS_TEXT);
    } catch (error) {
      return this.beacon_not_queued(request, String(error?.message ?? error), this.env, this.ctx);
    }
    return response;
  }
}
