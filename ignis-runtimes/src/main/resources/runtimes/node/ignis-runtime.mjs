// Ignis runtime client for Node.js (stdlib only), with AWS Lambda's semantics.
//
// Init: resolve _HANDLER ("file.export[.nested]") under the task root, as CommonJS (.js/.cjs) or an
// ES module (.mjs, or .js below a package.json with "type": "module"); failures go to
// /runtime/init/error as Runtime.ImportModuleError / HandlerNotFound / MalformedHandlerName /
// UserCodeSyntaxError. Loop: GET /next, call the handler (async or callback style), POST /response
// or an error body to /error. One keep-alive socket to the Runtime API carries every call.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const TASK_ROOT = process.env.LAMBDA_TASK_ROOT || '/var/task';
const [API_HOST, API_PORT] = splitAddress(process.env.AWS_LAMBDA_RUNTIME_API);
const PREFIX = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function splitAddress(address) {
  if (!address) {
    process.stderr.write('AWS_LAMBDA_RUNTIME_API is not set\n');
    process.exit(1);
  }
  const i = address.lastIndexOf(':');
  return i < 0 ? [address, 80] : [address.slice(0, i), Number(address.slice(i + 1))];
}

function request(method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: API_HOST, port: API_PORT, method, path: PREFIX + urlPath, agent, headers },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
    req.on('error', reject);
    req.end(body);
  });
}

function errorBody(err) {
  const e = err instanceof Error ? err : new Error(typeof err === 'string' ? err : util.inspect(err));
  const trace = typeof e.stack === 'string' ? e.stack.split('\n') : [];
  // AWS's node runtime names the stack "trace"; "stackTrace" is the name the other runtimes use.
  return { errorType: e.name || 'Error', errorMessage: e.message, trace, stackTrace: trace };
}

function postError(urlPath, body) {
  const json = JSON.stringify(body);
  return request('POST', urlPath, json, {
    'Content-Type': 'application/json',
    'Lambda-Runtime-Function-Error-Type': body.errorType,
  });
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
  for (;;) {
    const next = await request('GET', '/invocation/next');
    if (next.status !== 200) throw new Error(`Runtime API /next returned ${next.status}`);
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = requestId;
    if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    else delete process.env._X_AMZN_TRACE_ID;
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString('utf8')) : null;
    } catch (e) {
      await postError(`/invocation/${requestId}/error`, errorBody(new RuntimeFault('Runtime.UnmarshalError', e.message)));
      continue;
    }
    const { err, result } = await invoke(fn, event, next.headers);
    inFlight = undefined;
    if (err !== null && err !== undefined) {
      const body = errorBody(err);
      console.error('Invoke Error', JSON.stringify(body));
      await postError(`/invocation/${requestId}/error`, body);
      continue;
    }
    let payload;
    try {
      payload = JSON.stringify(result === undefined ? null : result);
    } catch (e) {
      await postError(`/invocation/${requestId}/error`, errorBody(new RuntimeFault('Runtime.MarshalError', e.message)));
      continue;
    }
    await request('POST', `/invocation/${requestId}/response`, payload, { 'Content-Type': 'application/json' });
  }
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
