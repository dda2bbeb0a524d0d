// A stand-in for SQS in the edge benchmark (tests/edge.sh with EDGE_BENCH=1): answers every
// SendMessageBatch request at once, listing each entry as Successful, and keeps nothing. The SQS
// emulator of the end-to-end test slows down as its queues fill (several seconds per request after
// a few thousand messages), which would keep the workers' queue consumers waiting long after the
// last beacon; SQS's own work is not part of what the benchmark measures.
//
//   node sqs-sink.mjs <port>     (prints its URL once it listens)
import crypto from "node:crypto";
import http from "node:http";

const server = http.createServer((request, response) => {
  let body = "";
  request.setEncoding("utf8");
  request.on("data", (chunk) => {
    body += chunk;
  });
  request.on("end", () => {
    let entries = [];
    try {
      entries = JSON.parse(body).Entries ?? [];
    } catch {
      // Not a SendMessageBatch request: an empty result.
    }
    const successful = entries.map((entry) => ({
      Id: entry.Id,
      MessageId: crypto.randomUUID(),
      MD5OfMessageBody: crypto.createHash("md5").update(entry.MessageBody ?? "").digest("hex"),
    }));
    response.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
    response.end(JSON.stringify({ Successful: successful, Failed: [] }));
  });
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${server.address().port}`);
});
