// The "same I/O" baseline of the edge benchmark (bench/load.mjs): a JavaScript worker that asks
// the runtime for what the real worker asks, and does nothing else. POST /e reads the body, queues
// it as text (DELIVERY "queue") or sends it to SQS after the answer (DELIVERY "direct"), and
// answers 202 with a receipt and the real answer's CORS headers; its queue consumer forwards each
// batch to SQS in SendMessageBatch requests of 10 and acknowledges the batch. The difference
// between the real worker and this one is the cost of our code: parsing, checking and anonymizing
// the beacon, signing the SQS requests, and the glue between JavaScript and WebAssembly.
// (The SQS requests are not signed: the emulator does not check signatures.)
const RECEIPT = JSON.stringify({ accepted: 20, rejected: [] });

function sendMessageBatch(env, bodies) {
  return fetch(`${env.SQS_ENDPOINT}/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "AmazonSQS.SendMessageBatch",
      authorization: "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: JSON.stringify({
      QueueUrl: env.SQS_QUEUE_URL,
      Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
    }),
  }).then((response) => response.arrayBuffer());
}

export default {
  async fetch(request, env, ctx) {
    if (request.method !== "POST") return new Response(null, { status: 204 });
    const body = await request.text();
    if (env.DELIVERY === "direct") ctx.waitUntil(sendMessageBatch(env, [body]));
    else await env.QUEUE.send(body, { contentType: "text" });
    return new Response(RECEIPT, {
      status: 202,
      headers: {
        "content-type": "application/json",
        "access-control-allow-origin": request.headers.get("origin") ?? "*",
        vary: "Origin",
      },
    });
  },

  async queue(batch, env) {
    const sends = [];
    for (let start = 0; start < batch.messages.length; start += 10) {
      sends.push(sendMessageBatch(env, batch.messages.slice(start, start + 10).map((message) => message.body)));
    }
    await Promise.all(sends);
    batch.ackAll();
  },
};
