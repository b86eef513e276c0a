// Ignis runtime client for Node.js (stdlib only), with AWS Lambda's semantics.
//
// Init: resolve _HANDLER ("file.export[.nested]") under the task root, as CommonJS (.js/.cjs) or an
// ES module (.mjs, or .js below a package.json with "type": "module"); failures go to
// /runtime/init/error as Runtime.ImportModuleError / HandlerNotFound / MalformedHandlerName /
// UserCodeSyntaxError. Loop: GET /next, call the handler (async or callback style), POST /response
// or an error body to /error, with the next GET /next in the same write. One keep-alive socket to
// the Runtime API carries every call. Response streaming as AWS's Node runtime offers it:
// awslambda.streamifyResponse(handler) marks a handler that gets (event, responseStream, context);
// its writes go to the Runtime API as chunks of a streaming POST /response (Lambda-Runtime-Function-
// Response-Mode: streaming), an error after the first byte as the Lambda-Runtime-Function-Error-*
// trailers; awslambda.HttpResponseStream.from(stream, {statusCode, headers, cookies}) opens a function
// URL's answer with that prelude and 8 NUL bytes.
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';

const TASK_ROOT = process.env.LAMBDA_TASK_ROOT || '/var/task';
const [API_HOST, API_PORT] = splitAddress(process.env.AWS_LAMBDA_RUNTIME_API);
const PREFIX = '/2018-06-01/runtime';

function splitAddress(address) {
  if (!address) {
    process.stderr.write('AWS_LAMBDA_RUNTIME_API is not set\n');
    process.exit(1);
  }
  const i = address.lastIndexOf(':');
  return i < 0 ? [address, 80] : [address.slice(0, i), Number(address.slice(i + 1))];
}

// The Runtime API over one keep-alive socket with a hand-written HTTP/1.1 exchange: calls are strictly
// one at a time (request, then its whole response), which is all this loop ever needs; node:http's
// client machinery (agent, parser objects, header validation) cost more per invoke than the exchange.
let conn;

function connect() {
  const socket = net.connect({ host: API_HOST, port: API_PORT });
  socket.setNoDelay(true);
  // Idle between calls, the socket must not keep the event loop alive: a callback handler's result
  // is sent on 'beforeExit' (callbackWaitsForEmptyEventLoop), as with node:http's keep-alive agent.
  socket.unref();
  // chunks are joined only when the head is looked for or the whole body has arrived, so a 6 MB
  // body arriving in many reads is copied once, not once per read
  const c = { socket, chunks: [], length: 0, need: 0, waiter: null, closed: false, error: null };
  socket.on('data', (d) => {
    c.chunks.push(d);
    c.length += d.length;
    if (c.waiter && c.length >= c.need) c.waiter();
  });
  const end = (err) => {
    c.closed = true;
    c.error = c.error || err || new Error('Runtime API closed the connection');
    if (c.waiter) c.waiter();
  };
  socket.on('end', () => end());
  socket.on('close', () => end());
  socket.on('error', (e) => end(e));
  return c;
}

// Resolves with the parsed response once c.buf holds all of it.
function readResponse(c) {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (c.chunks.length > 1) c.chunks = [Buffer.concat(c.chunks, c.length)];
      c.buf = c.chunks.length ? c.chunks[0] : Buffer.alloc(0);
      c.need = 0;
      const head = c.buf.indexOf('\r\n\r\n');
      if (head >= 0) {
        const lines = c.buf.toString('latin1', 0, head).split('\r\n');
        const status = Number(lines[0].split(' ')[1]);
        const headers = {};
        for (let i = 1; i < lines.length; i++) {
          const k = lines[i].indexOf(':');
          if (k > 0) headers[lines[i].slice(0, k).trim().toLowerCase()] = lines[i].slice(k + 1).trim();
        }
        let body;
        let used;
        if ((headers['transfer-encoding'] || '').toLowerCase() === 'chunked') {
          const parts = [];
          let at = head + 4;
          for (;;) {
            const eol = c.buf.indexOf('\r\n', at);
            if (eol < 0) break;
            const size = parseInt(c.buf.toString('latin1', at, eol), 16);
            if (size === 0) {
              const fin = c.buf.indexOf('\r\n\r\n', eol);
              if (fin >= 0) { body = Buffer.concat(parts); used = fin + 4; }
              break;
            }
            if (c.buf.length < eol + 2 + size + 2) break;
            parts.push(c.buf.subarray(eol + 2, eol + 2 + size));
            at = eol + 2 + size + 2;
          }
        } else {
          const n = Number(headers['content-length'] || 0);
          if (c.buf.length >= head + 4 + n) { body = c.buf.subarray(head + 4, head + 4 + n); used = head + 4 + n; }
          else c.need = head + 4 + n;
        }
        if (body !== undefined) {
          c.waiter = null;
          const rest = c.buf.subarray(used);
          c.chunks = rest.length ? [rest] : [];
          c.length = rest.length;
          if ((headers.connection || '').toLowerCase() === 'close') { c.socket.destroy(); conn = undefined; }
          resolve({ status, headers, body });
          return;
        }
      }
      if (c.closed) { c.waiter = null; reject(c.error); return; }
      c.waiter = attempt;
    };
    attempt();
  });
}

function requestHead(method, urlPath, payload, headers) {
  let head = `${method} ${PREFIX}${urlPath} HTTP/1.1\r\nHost: ${API_HOST}\r\n`;
  if (payload) head += `Content-Length: ${payload.length}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return head + '\r\n';
}

function toBuffer(body) {
  return body === undefined || body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
}

async function request(method, urlPath, body, headers = {}) {
  const payload = toBuffer(body);
  const head = requestHead(method, urlPath, payload, headers);
  for (let attempt = 1; ; attempt++) {
    if (!conn || conn.closed) conn = connect();
    const c = conn;
    c.socket.ref();
    try {
      c.socket.write(payload && payload.length < 65536 ? Buffer.concat([Buffer.from(head, 'latin1'), payload]) : head);
      if (payload && payload.length >= 65536) c.socket.write(payload);
      const response = await readResponse(c);
      c.socket.unref();
      return response;
    } catch (e) {
      // A dropped keep-alive connection is retried once on a fresh socket.
      c.socket.destroy();
      conn = undefined;
      if (attempt >= 2) throw e;
    }
  }
}

async function next() {
  const r = await request('GET', '/invocation/next');
  if (r.status !== 200) throw new Error(`Runtime API /next returned ${r.status}`);
  return r;
}

// Posts an invocation's outcome and asks for the next event in one write (HTTP/1.1 pipelining): the
// Runtime API answers both in order and sends its answer to the post together with the next event,
// one system call and one wakeup per invoke instead of two of each.
async function postAndNext(urlPath, body, headers) {
  const payload = toBuffer(body);
  const sequential = async () => {
    await request('POST', urlPath, payload, headers);
    return next();
  };
  if (!conn || conn.closed || payload.length >= 65536) return sequential();
  const c = conn;
  c.socket.ref();
  try {
    c.socket.write(Buffer.concat([Buffer.from(requestHead('POST', urlPath, payload, headers), 'latin1'), payload,
      Buffer.from(requestHead('GET', '/invocation/next', null, {}), 'latin1')]));
    await readResponse(c);
  } catch (e) {
    // dropped before the outcome was acknowledged: post it again on a fresh connection
    c.socket.destroy();
    conn = undefined;
    return sequential();
  }
  if (conn !== c) return next(); // the Runtime API closed after answering the post
  let r;
  try {
    r = await readResponse(c);
  } catch (e) {
    c.socket.destroy();
    conn = undefined;
    return next();
  }
  c.socket.unref();
  if (r.status !== 200) throw new Error(`Runtime API /next returned ${r.status}`);
  return r;
}

function errorBody(err) {
  const e = err instanceof Error ? err : new Error(typeof err === 'string' ? err : util.inspect(err));
  const trace = typeof e.stack === 'string' ? e.stack.split('\n') : [];
  // AWS's node runtime names the stack "trace"; "stackTrace" is the name the other runtimes use.
  return { errorType: e.name || 'Error', errorMessage: e.message, trace, stackTrace: trace };
}

function errorHeaders(body) {
  return { 'Content-Type': 'application/json', 'Lambda-Runtime-Function-Error-Type': body.errorType };
}

function postError(urlPath, body) {
  return request('POST', urlPath, JSON.stringify(body), errorHeaders(body));
}

function postErrorAndNext(requestId, body) {
  return postAndNext(`/invocation/${requestId}/error`, JSON.stringify(body), errorHeaders(body));
}

class RuntimeFault extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

function nearestPackageType(dir) {
  for (let d = dir; d.startsWith(TASK_ROOT); d = path.dirname(d)) {
    const pj = path.join(d, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8')).type || 'commonjs';
      } catch {
        return 'commonjs';
      }
    }
    if (d === TASK_ROOT) break;
  }
  return 'commonjs';
}

async function loadModule(modulePath) {
  const base = path.resolve(TASK_ROOT, modulePath);
  const require = createRequire(path.join(TASK_ROOT, 'noop.js'));
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const file = base + ext;
    if (!fs.existsSync(file)) continue;
    if (ext === '.mjs' || (ext === '.js' && nearestPackageType(path.dirname(file)) === 'module')) {
      return import(pathToFileURL(file).href);
    }
    return require(file);
  }
  // Not a file in the task root: a package (node_modules, /opt/nodejs) resolved like require() would.
  try {
    return require(modulePath);
  } catch (e) {
    if (e && e.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(require.resolve(modulePath)).href);
    throw e;
  }
}

async function loadHandler(handlerString) {
  const slash = handlerString.lastIndexOf('/');
  const dot = handlerString.indexOf('.', slash + 1);
  if (!handlerString || dot < 1 || dot === handlerString.length - 1) {
    throw new RuntimeFault('Runtime.MalformedHandlerName', 'Bad handler ' + handlerString);
  }
  const modulePath = handlerString.slice(0, dot);
  const exportPath = handlerString.slice(dot + 1);
  let mod;
  try {
    mod = await loadModule(modulePath);
  } catch (e) {
    if (e instanceof SyntaxError) throw new RuntimeFault('Runtime.UserCodeSyntaxError', String(e));
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND')) {
      throw new RuntimeFault('Runtime.ImportModuleError', 'Error: ' + e.message.split('\n')[0]);
    }
    throw e;
  }
  let fn = mod;
  for (const key of exportPath.split('.')) fn = fn == null ? undefined : fn[key];
  if (typeof fn !== 'function') {
    throw new RuntimeFault('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  return fn;
}

// console.* lines carry the timestamp, request id and level, as on Lambda.
let currentRequestId;
function patchConsole() {
  const write = (level) => (...args) => {
    const line = util.format(...args).replace(/\n/g, '\r');
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${line}\n`);
  };
  console.log = console.info = write('INFO');
  console.warn = write('WARN');
  console.error = write('ERROR');
  console.debug = write('DEBUG');
  console.trace = write('TRACE');
}

function makeContext(headers, finish) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  const parse = (h) => { try { return h ? JSON.parse(h) : undefined; } catch { return undefined; } };
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parse(headers['lambda-runtime-client-context']),
    identity: parse(headers['lambda-runtime-cognito-identity']),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    // Legacy Node 0.10-era completion functions, still honoured by AWS.
    succeed: (result) => finish(null, result),
    fail: (err) => finish(err ?? new Error('handled')),
    done: (err, result) => finish(err, result),
  };
  return context;
}

let inFlight; // { requestId, settle } while an invocation runs: uncaught errors are reported on it.

function invoke(fn, event, headers) {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (err, result) => {
      if (settled) return;
      settled = true;
      resolve({ err, result });
    };
    inFlight = { settle };
    let context;
    // A callback result is only sent once the event loop is empty (callbackWaitsForEmptyEventLoop),
    // which is when Node emits 'beforeExit': our own keep-alive socket is idle and unref'd then.
    const callback = (err, result) => {
      if (context.callbackWaitsForEmptyEventLoop) {
        process.once('beforeExit', () => settle(err, result));
      } else {
        settle(err, result);
      }
    };
    context = makeContext(headers, callback);
    try {
      const out = fn(event, context, callback);
      if (out && typeof out.then === 'function') {
        out.then((r) => settle(null, r), (e) => settle(e ?? new Error('Promise rejected with ' + e)));
      } else if (fn.length < 3) {
        settle(null, out);
      }
    } catch (e) {
      settle(e);
    }
  });
}

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HTTP_INTEGRATION = 'application/vnd.awslambda.http-integration-response';

// The response stream a streaming handler writes to: a Writable whose chunks go out as HTTP chunks of
// the POST /response on the Runtime API socket. A write's callback runs once the socket took it, so a
// slow reader on the platform's side slows the handler's writes (Writable's backpressure).
class ResponseStream extends Writable {
  constructor(c, requestId) {
    super({ highWaterMark: 64 * 1024 });
    this.c = c;
    this.requestId = requestId;
    this.type = 'application/octet-stream';
    this.headSent = false;
    this._onBeforeFirstWrite = undefined;
  }

  setContentType(type) {
    if (this.headSent) throw new Error('Cannot set the content type after the first write');
    this.type = String(type);
  }

  sendHead() {
    if (this.headSent) return;
    this.headSent = true;
    const head = `POST ${PREFIX}/invocation/${this.requestId}/response HTTP/1.1\r\nHost: ${API_HOST}\r\n`
      + 'Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n'
      + `Content-Type: ${this.type.replace(/[\r\n]/g, ' ')}\r\n`
      + 'Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n';
    this.c.socket.write(head, 'latin1');
    const before = this._onBeforeFirstWrite;
    this._onBeforeFirstWrite = undefined;
    if (before) before((b) => this.frame(toBuffer(typeof b === 'string' ? b : Buffer.from(b))));
  }

  frame(buf, cb) {
    if (!buf.length) { if (cb) cb(); return; } // an empty chunk would end the body
    this.c.socket.write(Buffer.concat([Buffer.from(buf.length.toString(16) + '\r\n', 'latin1'), buf, Buffer.from('\r\n', 'latin1')]), cb);
  }

  _write(chunk, encoding, cb) {
    this.sendHead();
    this.frame(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding), (err) => cb(err || undefined));
  }

  // Ends the body: cleanly, or with the error as trailers (its JSON body base64, as AWS's runtime sends it).
  async finishBody(errBody) {
    this.sendHead();
    let tail = '0\r\n';
    if (errBody) {
      tail += `Lambda-Runtime-Function-Error-Type: ${String(errBody.errorType).replace(/[\r\n]/g, ' ')}\r\n`
        + `Lambda-Runtime-Function-Error-Body: ${Buffer.from(JSON.stringify(errBody)).toString('base64')}\r\n`;
    }
    this.c.socket.write(tail + '\r\n', 'latin1');
    return readResponse(this.c);
  }
}

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION);
    const metadata = JSON.stringify(prelude ?? {});
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[HANDLER_STREAMING] = 'response';
    return handler;
  },
  HttpResponseStream,
};

// A streaming handler's invocation: its promise settles the stream; an error ends it with trailers.
async function invokeStreaming(fn, event, headers, requestId) {
  if (!conn || conn.closed) conn = connect();
  const c = conn;
  c.socket.ref();
  const stream = new ResponseStream(c, requestId);
  const context = makeContext(headers, () => {});
  let err = null;
  try {
    await fn(event, stream, context);
    if (!stream.writableEnded) stream.end();
    if (!stream.writableFinished) await new Promise((resolve, reject) => { stream.once('finish', resolve); stream.once('error', reject); });
  } catch (e) {
    err = e ?? new Error('Promise rejected with ' + e);
  }
  inFlight = undefined;
  let body = null;
  if (err) {
    body = errorBody(err);
    console.error('Invoke Error', JSON.stringify(body));
  }
  try {
    await stream.finishBody(body);
  } catch {
    // the Runtime API cut the stream (over its limit) or the connection dropped: the next /next reconnects
    c.socket.destroy();
    conn = undefined;
  }
  if (conn === c) c.socket.unref();
  return next();
}

async function main() {
  patchConsole();
  let fn;
  try {
    fn = await loadHandler(process.env._HANDLER || '');
  } catch (e) {
    const body = errorBody(e);
    process.stdout.write(`${new Date().toISOString()}\tundefined\tERROR\t${JSON.stringify(body)}\n`);
    await postError('/init/error', body);
    process.exit(1);
  }
  process.on('uncaughtException', (e) => fatal(e, e && e.name));
  process.on('unhandledRejection', (reason) => fatal(reason, 'Runtime.UnhandledPromiseRejection'));
  let event = await next();
  for (;;) event = await answer(fn, event); // answers this event, returns the next one
}

async function answer(fn, next) {
  const requestId = next.headers['lambda-runtime-aws-request-id'];
  currentRequestId = requestId;
  if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
  else delete process.env._X_AMZN_TRACE_ID;
  let event;
  try {
    event = next.body.length ? JSON.parse(next.body.toString('utf8')) : null;
  } catch (e) {
    return postErrorAndNext(requestId, errorBody(new RuntimeFault('Runtime.UnmarshalError', e.message)));
  }
  if (fn[HANDLER_STREAMING] === 'response') {
    inFlight = { settle: () => {} };
    return invokeStreaming(fn, event, next.headers, requestId);
  }
  const { err, result } = await invoke(fn, event, next.headers);
  inFlight = undefined;
  if (err !== null && err !== undefined) {
    const body = errorBody(err);
    console.error('Invoke Error', JSON.stringify(body));
    return postErrorAndNext(requestId, body);
  }
  let payload;
  try {
    payload = JSON.stringify(result === undefined ? null : result);
  } catch (e) {
    return postErrorAndNext(requestId, errorBody(new RuntimeFault('Runtime.MarshalError', e.message)));
  }
  return postAndNext(`/invocation/${requestId}/response`, payload, { 'Content-Type': 'application/json' });
}

// An exception escaping the handler's callbacks ends the process, as on Lambda, after it is reported.
async function fatal(error, type) {
  const body = errorBody(error);
  if (type) body.errorType = type;
  process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\tERROR\t${JSON.stringify(body)}\n`);
  try {
    if (inFlight && currentRequestId) await postError(`/invocation/${currentRequestId}/error`, body);
  } finally {
    process.exit(129);
  }
}

main().catch((e) => {
  process.stderr.write(`ignis runtime: ${e && e.stack}\n`);
  process.exit(1);
});
