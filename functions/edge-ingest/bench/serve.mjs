// Runs one worker of the edge benchmark in workerd through Miniflare, the library `wrangler dev`
// itself runs workerd with, configured from the same wrangler.toml (and --env-file) through
// wrangler's own reader, so the bindings, the Queue and its consumer are exactly what `wrangler
// dev` would set up:
//
//   EDGE_NODE_MODULES=<node_modules of package.json> node serve.mjs --config <wrangler.toml>
//       [--env-file <file>] --port <port>
//
// Prints `ready <url>` once it answers. Why not `wrangler dev` itself: in front of the worker it
// puts a proxy worker and its own middleware (which drains every request body), none of which
// runs in production. With them, a worker answering 204 costs about 1.5 ms of workerd CPU per
// request instead of 0.3 ms, and a worker that reads its body pays that body's trip through the
// extra hops too, so `wrangler dev` inflates exactly the differences the benchmark measures
// (docs/performance.md, "Time per 20-event beacon"). The end-to-end tests still run in `wrangler
// dev`.
import { createRequire } from "node:module";
import path from "node:path";

const usage = "usage: EDGE_NODE_MODULES=<dir> node serve.mjs --config <wrangler.toml> [--env-file <file>] --port <port>";
const options = {};
const args = process.argv.slice(2);
for (let index = 0; index < args.length; index += 2) {
  const [name, value] = [args[index], args[index + 1]];
  if (!["--config", "--env-file", "--port"].includes(name) || value === undefined) {
    console.error(`${usage}\nunexpected argument: ${name}`);
    process.exit(2);
  }
  options[name.slice(2)] = value;
}
const modules = process.env.EDGE_NODE_MODULES;
if (!options.config || !(Number(options.port) > 0) || !modules) {
  console.error(usage);
  process.exit(2);
}

// The pinned packages live in the tools cache (tests/edge.sh), not next to this file.
const require = createRequire(path.join(modules, "noop.js"));
const { Miniflare } = require("miniflare");
const { unstable_getMiniflareWorkerOptions: workerOptionsOf } = require("wrangler");

const config = path.resolve(options.config);
const { workerOptions, main } = workerOptionsOf(config, undefined, {
  envFiles: options["env-file"] ? [path.resolve(options["env-file"])] : undefined,
});
const miniflare = new Miniflare({
  ...workerOptions,
  name: "bench",
  modules: true,
  scriptPath: path.resolve(path.dirname(config), main),
  // Module paths are taken relative to this root; the build lives outside the working directory.
  modulesRoot: "/",
  host: "127.0.0.1",
  port: Number(options.port),
});
const url = await miniflare.ready;
console.log(`ready ${url}`);

async function stop() {
  await miniflare.dispose();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
