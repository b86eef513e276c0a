"""Ignis runtime client for Python (stdlib only), with AWS Lambda's semantics.

Loop: import the _HANDLER module once (init), then GET /runtime/invocation/next, call the handler,
POST the JSON result to /response or an {errorMessage, errorType, stackTrace} body to /error.
Init failures go to /runtime/init/error with AWS's error types, then the process exits.
One keep-alive HTTP/1.1 connection to the Runtime API is reused for every call.
"""
import importlib
import json
import logging
import os
import socket
import sys
import time

API_PREFIX = "/2018-06-01/runtime"
TASK_ROOT = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")


class FaultError(Exception):
    """An init/invoke failure with a Lambda platform error type (Runtime.*)."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class Headers(dict):
    """Response headers by lower-cased name."""

    def get(self, name, default=None):
        return dict.get(self, name.lower(), default)


class RuntimeApi:
    """Keep-alive HTTP/1.1 client of the Lambda Runtime API 2018-06-01.

    A plain socket and a hand-written request/response exchange instead of http.client: http.client
    imports ssl and the email parser (tens of ms of every cold start) and parses every response's
    headers with the email package (the largest part of the client's per-invoke work).
    """

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host = host or address
        self.port = int(port) if port else 80
        self.sock = None
        self.reader = None

    def _connect(self):
        # No timeout: /next blocks until there is work, as on Lambda.
        self.sock = socket.create_connection((self.host, self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb", buffering=65536)

    def _close(self):
        for c in (self.reader, self.sock):
            if c is not None:
                try:
                    c.close()
                except OSError:
                    pass
        self.sock = self.reader = None

    def _head(self, method, path, body=None, headers=None):
        head = "%s %s%s HTTP/1.1\r\nHost: %s\r\n" % (method, API_PREFIX, path, self.host)
        if body is not None:
            head += "Content-Length: %d\r\n" % len(body)
        if headers:
            for k, v in headers.items():
                head += "%s: %s\r\n" % (k, v)
        return (head + "\r\n").encode("latin-1")

    def _request(self, method, path, body=None, headers=None):
        head = self._head(method, path, body, headers)
        for attempt in (1, 2):
            if self.sock is None:
                self._connect()
            try:
                if body is None:
                    self.sock.sendall(head)
                elif len(body) < 65536:
                    self.sock.sendall(head + body)
                else:
                    self.sock.sendall(head)
                    self.sock.sendall(body)
                return self._response()
            except (OSError, ValueError):
                # A dropped keep-alive connection is retried once on a fresh socket.
                self._close()
                if attempt == 2:
                    raise

    def _response(self):
        r = self.reader
        status_line = r.readline(65537)
        if not status_line:
            raise ConnectionError("Runtime API closed the connection")
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ValueError("bad status line %r" % status_line[:100])
        status = int(parts[1])
        headers = Headers()
        while True:
            line = r.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(r.readline(65537).split(b";", 1)[0], 16)
                if size == 0:
                    while r.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(r.read(size))
                r.readline(65537)
            body = b"".join(chunks)
        else:
            n = int(headers.get("content-length", "0"))
            body = r.read(n) if n else b""
            if len(body) != n:
                raise ConnectionError("Runtime API closed the connection mid-body")
        if headers.get("connection", "").lower() == "close":
            self._close()
        return status, headers, body

    def next(self):
        return self._next_answer(self._request("GET", "/invocation/next"))

    @staticmethod
    def _next_answer(answer):
        status, headers, body = answer
        if status != 200:
            raise RuntimeError("Runtime API /next returned %d: %r" % (status, body[:200]))
        return headers, body

    def post_response_and_next(self, request_id, payload):
        return self._post_and_next("/invocation/%s/response" % request_id, payload, {"Content-Type": "application/json"})

    def post_error_and_next(self, request_id, error):
        return self._post_and_next("/invocation/%s/error" % request_id, json.dumps(error).encode(),
                                   {"Content-Type": "application/json",
                                    "Lambda-Runtime-Function-Error-Type": error["errorType"]})

    def _post_and_next(self, path, body, headers):
        """Posts an invocation's result and asks for the next event in one write (HTTP/1.1 pipelining).

        The Runtime API answers both in order, and sends its answer to the first together with the
        next event: one system call and one wakeup per invoke instead of two of each.
        """
        if self.sock is None or len(body) >= 65536:
            self._request("POST", path, body, headers)
            return self.next()
        try:
            self.sock.sendall(self._head("POST", path, body, headers) + body + self._head("GET", "/invocation/next"))
            self._response()
        except (OSError, ValueError):
            # The connection dropped before the result was acknowledged: post it again on a fresh one.
            self._close()
            self._request("POST", path, body, headers)
            return self.next()
        if self.sock is None:  # the Runtime API closed after answering the post: ask again
            return self.next()
        try:
            return self._next_answer(self._response())
        except (OSError, ValueError):
            self._close()
            return self.next()

    def post_init_error(self, error):
        return self._post_error("/init/error", error)

    def _post_error(self, path, error):
        body = json.dumps(error).encode()
        return self._request("POST", path, body, {"Content-Type": "application/json",
                                                  "Lambda-Runtime-Function-Error-Type": error["errorType"]})


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, raw):
        self.cognito_identity_id = raw.get("cognitoIdentityId")
        self.cognito_identity_pool_id = raw.get("cognitoIdentityPoolId")


class Client:
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __init__(self, raw):
        self.installation_id = raw.get("installation_id")
        self.app_title = raw.get("app_title")
        self.app_version_name = raw.get("app_version_name")
        self.app_version_code = raw.get("app_version_code")
        self.app_package_name = raw.get("app_package_name")


class ClientContext:
    __slots__ = ("client", "custom", "env")

    def __init__(self, raw):
        self.client = Client(raw["client"]) if raw.get("client") else None
        self.custom = raw.get("custom")
        self.env = raw.get("env")


class LambdaContext:
    """The context object handlers receive, with the attributes AWS documents."""

    def __init__(self, request_id, deadline_ms, function_arn, client_context, identity):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = function_arn
        self.client_context = client_context
        self.identity = identity
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    # Clients.client_context of old runtimes; kept for handlers that copy it into logs.
    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,function_name=%s,function_version=%s]" % (
            self.aws_request_id, self.function_name, self.function_version)


def error_body(exc, error_type=None, trace=None):
    if trace is None:
        import traceback  # only on errors: not part of every cold start
        trace = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:]) if exc.__traceback__ else []
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": trace,
    }


def load_handler(handler):
    """Imports module and returns the function named by `module.function` (dotted packages allowed)."""
    try:
        modname, fname = handler.rsplit(".", 1)
        if not modname or not fname:
            raise ValueError("not enough values to unpack (expected 2, got 1)")
    except ValueError as e:
        raise FaultError("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    modname = modname.replace("/", ".")
    if modname.split(".")[0] in sys.builtin_module_names:
        raise FaultError("Runtime.BuiltInModuleConflict",
                         "Cannot use built-in module %s as a handler module" % modname)
    try:
        module = importlib.import_module(modname)
    except ImportError as e:
        raise FaultError("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultError("Runtime.UserCodeSyntaxError",
                         "Syntax error in module '%s': %s" % (modname, e), trace)
    fn = getattr(module, fname, None)
    if fn is None:
        raise FaultError("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
    return fn


def _json_header(headers, name, factory):
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return factory(json.loads(raw))
    except (ValueError, TypeError, AttributeError, KeyError):
        return None


def _default(obj):
    # Decimal (e.g. from DynamoDB) serializes as a number, as AWS's encoder does.
    if type(obj).__name__ == "Decimal":
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


def invoke(api, fn, headers, body):
    """Runs one event and posts its outcome; returns the next event (headers, body)."""
    request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
    trace_id = headers.get("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    context = LambdaContext(
        request_id,
        int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
        headers.get("Lambda-Runtime-Invoked-Function-Arn"),
        _json_header(headers, "Lambda-Runtime-Client-Context", ClientContext),
        _json_header(headers, "Lambda-Runtime-Cognito-Identity", CognitoIdentity) or CognitoIdentity({}),
    )
    RequestIdFilter.current = request_id
    try:
        try:
            event = json.loads(body) if body else None
        except ValueError as e:
            raise FaultError("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
        result = fn(event, context)
        try:
            payload = json.dumps(result, default=_default).encode()
        except (TypeError, ValueError) as e:
            raise FaultError("Runtime.MarshalError", "Unable to marshal response: %s" % e)
    except FaultError as e:
        err = {"errorMessage": e.message, "errorType": e.error_type, "requestId": request_id, "stackTrace": e.trace}
        log_error(err)
        return api.post_error_and_next(request_id, err)
    except Exception as e:  # noqa: BLE001 - every handler failure is reported, never fatal to the loop
        err = error_body(e)
        err["requestId"] = request_id
        log_error(err)
        return api.post_error_and_next(request_id, err)
    return api.post_response_and_next(request_id, payload)


def log_error(err):
    # Same shape as AWS's "[ERROR] Type: message" line plus the traceback, on stdout (the function log).
    sys.stdout.write("[ERROR] %s: %s\nTraceback (most recent call last):\n%s\n"
                     % (err["errorType"], err["errorMessage"], "".join(err["stackTrace"])))


class RequestIdFilter(logging.Filter):
    current = None

    def filter(self, record):
        record.aws_request_id = RequestIdFilter.current
        return True


def setup_logging():
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(RequestIdFilter())
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def main():
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    # Lambda's import path: the task root first, then layers; never our own /var/runtime.
    runtime_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != runtime_dir]
    for p in reversed([TASK_ROOT, "/opt/python", "/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2]]):
        sys.path.insert(0, p)
    setup_logging()
    handler = os.environ.get("_HANDLER", "")
    try:
        fn = load_handler(handler)
    except FaultError as e:
        err = {"errorMessage": e.message, "errorType": e.error_type, "requestId": "", "stackTrace": e.trace}
        log_error(err)
        api.post_init_error(err)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - an exception raised by the module's top-level code
        err = error_body(e)
        log_error(err)
        api.post_init_error(err)
        sys.exit(1)
    headers, body = api.next()
    while True:
        headers, body = invoke(api, fn, headers, body)  # answers this event, returns the next one


if __name__ == "__main__":
    main()
