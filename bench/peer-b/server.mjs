// Peer B of the idemgate benchmark (docs/benchmarks.md): the smallest honest Node.js
// idempotency proxy built from @node-idempotency/core with its Redis storage adapter.
// POST/PATCH with an Idempotency-Key go through the library (SET NX claim, then SET of the
// completed response, or GET on a repeat); everything else is forwarded untouched. The
// upstream is reached through an undici keep-alive pool.
//
// Environment: PEER_B_LISTEN (host:port), PEER_B_UPSTREAM (http://host:port),
// PEER_B_REDIS_URL (redis://host:port/db), PEER_B_CONNECTIONS (pool size, default 64).
import http from "node:http";
import { Pool } from "undici";
import core from "@node-idempotency/core";
import redis_adapter from "@node-idempotency/storage-adapter-redis";

const { Idempotency, IdempotencyError, IdempotencyErrorCodes } = core;
const { RedisStorageAdapter } = redis_adapter;

const [listen_host, listen_port] = (process.env.PEER_B_LISTEN ?? "127.0.0.1:8082").split(":");
const upstream = new Pool(process.env.PEER_B_UPSTREAM ?? "http://127.0.0.1:9000", {
  connections: Number(process.env.PEER_B_CONNECTIONS ?? 64),
  pipelining: 1,
  keepAliveTimeout: 60_000,
});
const storage = new RedisStorageAdapter({
  url: process.env.PEER_B_REDIS_URL ?? "redis://127.0.0.1:6379/0",
});
await storage.connect();
const idempotency = new Idempotency(storage, { cacheTTLMS: 24 * 3600 * 1000 });

const protected_methods = new Set(["POST", "PATCH"]);
// Hop-by-hop headers (RFC 9110 7.6.1) are neither forwarded nor stored.
const hop_by_hop = new Set([
  "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
  "upgrade", "proxy-authenticate", "proxy-authorization", "host", "content-length",
]);

function end_to_end(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!hop_by_hop.has(name)) out[name] = value;
  }
  return out;
}

function read_body(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

async function forward(req, body) {
  const r = await upstream.request({
    method: req.method,
    path: req.url,
    headers: end_to_end(req.headers),
    body: body.length > 0 ? body : undefined,
  });
  const payload = Buffer.from(await r.body.arrayBuffer());
  return { status: r.statusCode, headers: end_to_end(r.headers), body: payload };
}

function send(res, status, headers, body) {
  res.writeHead(status, { ...headers, "content-length": body.length });
  res.end(body);
}

const error_status = {
  [IdempotencyErrorCodes.REQUEST_IN_PROGRESS]: 409,
  [IdempotencyErrorCodes.IDEMPOTENCY_FINGERPRINT_MISSMATCH]: 409,
};

async function handle_protected(req, res, body) {
  // The library hashes JSON.stringify(body): the raw text keeps it a hash of the bytes.
  const params = { method: req.method, path: req.url.split("?")[0], headers: req.headers,
                   body: body.length > 0 ? body.toString("utf8") : undefined };
  let cached;
  try {
    cached = await idempotency.onRequest(params);
  } catch (err) {
    if (!(err instanceof IdempotencyError)) throw err;
    const json = Buffer.from(JSON.stringify({ error: { code: err.code, message: err.message } }));
    send(res, error_status[err.code] ?? 400, { "content-type": "application/json" }, json);
    return;
  }
  if (cached) {
    const { status, headers } = cached.additional;
    send(res, status, { ...headers, "idempotent-replayed": "true" },
         Buffer.from(cached.body, "base64"));
    return;
  }
  const r = await forward(req, body);
  await idempotency.onResponse(params, {
    body: r.body.toString("base64"),
    additional: { status: r.status, headers: r.headers },
  });
  send(res, r.status, r.headers, r.body);
}

async function handle(req, res) {
  const body = await read_body(req);
  if (protected_methods.has(req.method)) {
    await handle_protected(req, res, body);
    return;
  }
  const r = await forward(req, body);
  send(res, r.status, r.headers, r.body);
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) send(res, 502, { "content-type": "text/plain" }, Buffer.from(String(err)));
    else res.destroy();
  });
});
server.listen(Number(listen_port), listen_host);

function shut_down() {
  server.close();
  server.closeAllConnections();
  Promise.allSettled([upstream.close(), storage.disconnect()]).then(() => process.exit(0));
}
process.on("SIGTERM", shut_down);
process.on("SIGINT", shut_down);
