// The baseline of the edge benchmark (tests/edge.sh with EDGE_BENCH=1): a worker that does
// nothing but answer 204, run by the same wrangler/workerd as the real one.
export default {
  async fetch() {
    return new Response(null, { status: 204 });
  },
};
