package dev.ignis.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ignis.config.ConfigStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;

/**
 * Isolation across accounts with the production runtimes, through the real API: account B ("bob")
 * deploys a victim that keeps a secret in its code, its environment and its /tmp, and stays warm;
 * account A ("alice", the base class's) deploys a hostile function on python3.11 and on nodejs20.x that
 * looks for the secret everywhere it can reach: every host file that holds it (found by the test on the
 * host, passed in by path), /tmp, /var/task, every process in its /proc (environ, cmdline, cwd, root),
 * the victim's Runtime API address and the ports around it. It must find nothing.
 */
class CrossAccountIsolationIT extends PlatformTestBase {
    static final ObjectMapper JSON = new ObjectMapper();
    final String secret = "victim-secret-" + UUID.randomUUID();
    LambdaClient bob;
    JsonNode victim;

    static final String PY_PROBE = """
            import json, os, socket
            def found(data, secret):
                return secret.encode() in data if isinstance(data, bytes) else secret in data
            def read(path):
                try:
                    if os.path.isdir(path):
                        return "LISTED:" + ",".join(os.listdir(path))
                    with open(path, "rb") as f:
                        return f.read(1 << 20)
                except OSError as e:
                    return "denied:" + type(e).__name__
            def handler(event, context):
                secret, leaks, tried = event["secret"], [], 0
                paths = list(event["paths"]) + ["/tmp", "/var/task"]
                for dirpath in ("/tmp", "/var/task"):
                    for root, dirs, files in os.walk(dirpath):
                        paths += [os.path.join(root, f) for f in files]
                for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
                    paths += ["/proc/%s/%s" % (pid, f) for f in ("environ", "cmdline", "cwd", "root/tmp", "root/var/task")]
                for p in paths:
                    tried += 1
                    data = read(p)
                    if found(data, secret):
                        leaks.append(p)
                    elif p in event["paths"] and not (isinstance(data, str) and data.startswith("denied:")):
                        leaks.append("readable host path " + p)
                host, port = event["victimApi"].split(":")
                own = os.environ["AWS_LAMBDA_RUNTIME_API"]
                for p in range(int(port) - 5, int(port) + 6):
                    if "%s:%d" % (host, p) == own:
                        continue
                    tried += 1
                    s = socket.socket(); s.settimeout(1)
                    try:
                        s.connect((host, p))
                        s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
                        leaks.append("connected to %s:%d: %r" % (host, p, s.recv(200)))
                    except OSError:
                        pass
                    finally:
                        s.close()
                return {"leaks": leaks, "tried": tried, "own": own}
            """;

    static final String NODE_PROBE = """
            const fs = require('fs'), net = require('net'), path = require('path');
            function read(p) {
              try {
                if (fs.statSync(p).isDirectory()) return 'LISTED:' + fs.readdirSync(p).join(',');
                return fs.readFileSync(p).toString('latin1');
              } catch (e) { return 'denied:' + e.code; }
            }
            function walk(dir, out) {
              let names = [];
              try { names = fs.readdirSync(dir); } catch (e) { return; }
              for (const n of names) {
                const p = path.join(dir, n);
                try { fs.lstatSync(p).isDirectory() ? walk(p, out) : out.push(p); } catch (e) {}
              }
            }
            function connect(host, port) {
              return new Promise(resolve => {
                const s = net.connect({host, port, timeout: 1000});
                s.on('connect', () => { s.write('GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'); });
                s.on('data', d => { s.destroy(); resolve('connected to ' + host + ':' + port + ': ' + d.toString().slice(0, 100)); });
                s.on('timeout', () => { s.destroy(); resolve(null); });
                s.on('error', () => resolve(null));
              });
            }
            exports.handler = async (event) => {
              const leaks = []; let tried = 0;
              const paths = [...event.paths, '/tmp', '/var/task'];
              walk('/tmp', paths); walk('/var/task', paths);
              for (const pid of fs.readdirSync('/proc').filter(p => /^[0-9]+$/.test(p))) {
                for (const f of ['environ', 'cmdline', 'cwd', 'root/tmp', 'root/var/task']) paths.push('/proc/' + pid + '/' + f);
              }
              for (const p of paths) {
                tried++;
                const data = read(p);
                if (data.includes(event.secret)) leaks.push(p);
                else if (event.paths.includes(p) && !data.startsWith('denied:')) leaks.push('readable host path ' + p);
              }
              const [host, port] = event.victimApi.split(':');
              const own = process.env.AWS_LAMBDA_RUNTIME_API;
              for (let p = +port - 5; p <= +port + 5; p++) {
                if (host + ':' + p === own) continue;
                tried++;
                const r = await connect(host, p);
                if (r) leaks.push(r);
              }
              return {leaks, tried, own};
            };
            """;

    @BeforeAll
    void victim() throws IOException {
        ConfigStore.IssuedKey bobKey = platform.config().createAccount("bob");
        assertThat(bobKey.accountId()).isNotEqualTo(key.accountId());
        bob = TestPlatform.client(platform.port(), bobKey.accessKeyId(), bobKey.secretAccessKey());
        bob.createFunction(b -> b.functionName("victim").runtime("python3.11").handler("app.handler").role(TestPlatform.ROLE)
                .timeout(30).memorySize(256).environment(e -> e.variables(Map.of("VICTIM_SECRET", secret)))
                .code(c -> c.zipFile(SdkBytes.fromByteArray(Zips.python("""
                        import os
                        SECRET = %s
                        def handler(event, context):
                            with open("/tmp/" + SECRET + ".txt", "w") as f:
                                f.write(SECRET)
                            return {"api": os.environ["AWS_LAMBDA_RUNTIME_API"], "pid": os.getpid()}
                        """.formatted("\"" + secret + "\""))))));
        InvokeResponse r = bob.invoke(b -> b.functionName("victim").payload(SdkBytes.fromUtf8String("{}")));
        assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
        victim = JSON.readTree(r.payload().asUtf8String());
    }

    @AfterAll
    void closeBob() {
        if (bob != null) {
            bob.close();
        }
    }

    /** Every file on the host under the platform's data directory that holds the victim's secret. */
    List<String> hostPathsWithTheSecret() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return Stream.concat(Stream.of(dir.toString()), s.filter(Files::isRegularFile).filter(p -> {
                try {
                    return Files.size(p) < (64 << 20) && new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1).contains(secret);
                } catch (IOException e) {
                    return false; // gone meanwhile (a sandbox's tmp)
                }
            }).map(Path::toString)).toList();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"python3.11", "nodejs20.x"})
    void anotherAccountsFunctionFindsNothingOfTheVictim(String runtime) throws Exception {
        String name = "hostile-" + runtime.replace('.', '-');
        byte[] zip = runtime.startsWith("python") ? Zips.python(PY_PROBE) : Zips.of(Map.of("index.js", NODE_PROBE));
        lambda.createFunction(b -> b.functionName(name).runtime(runtime).handler(runtime.startsWith("python") ? "app.handler" : "index.handler")
                .role(TestPlatform.ROLE).timeout(60).memorySize(256).code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
        // the victim is warm, with its secret in /tmp, while the attacker looks
        assertThat(bob.invoke(b -> b.functionName("victim").payload(SdkBytes.fromUtf8String("{}"))).functionError()).isNull();
        List<String> hostPaths = hostPathsWithTheSecret();
        assertThat(hostPaths).as("the test found where the secret lives on the host").hasSizeGreaterThan(1);
        ObjectNode event = JSON.createObjectNode().put("secret", secret).put("victimApi", victim.get("api").asText());
        hostPaths.forEach(event.putArray("paths")::add);
        InvokeResponse r = lambda.invoke(b -> b.functionName(name).payload(SdkBytes.fromUtf8String(event.toString())));
        assertThat(r.functionError()).as(r.payload().asUtf8String()).isNull();
        JsonNode out = JSON.readTree(r.payload().asUtf8String());
        assertThat(out.get("leaks")).as("what " + runtime + " under another account reached (host paths tried: " + hostPaths + ")").isEmpty();
        assertThat(out.get("tried").asInt()).isGreaterThan(hostPaths.size() + 10);
    }
}
