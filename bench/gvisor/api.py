import http.server, sys, time, os, socket
t0=float(sys.argv[1]) if len(sys.argv)>1 else time.time()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version="HTTP/1.1"
    def setup(self):
        super().setup()
        try: self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError: pass
    def do_GET(self):
        print("GET %s at +%.6f s" % (self.path, time.time()-t0), flush=True)
        if os.environ.get("HOLD"): time.sleep(3600)
        self.wfile.write(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\nContent-Length: 2\r\n\r\n{}"); self.wfile.flush()
    def do_POST(self):
        n=int(self.headers.get("Content-Length",0)); body=self.rfile.read(n)
        self.wfile.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"); self.wfile.flush()
    def log_message(self,*a): pass
http.server.ThreadingHTTPServer(("127.0.0.1",9001),H).serve_forever()
