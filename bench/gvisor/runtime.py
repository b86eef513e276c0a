import http.client, os, json
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
c = http.client.HTTPConnection(host, int(port))
while True:
    c.request("GET", "/2018-06-01/runtime/invocation/next"); r = c.getresponse(); ev = r.read()
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    c.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid, json.dumps({"uid": os.getuid(), "id": open("/proc/self/status").read().count("\n")})); c.getresponse().read()
