package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ignis.config.CodeStore;
import dev.ignis.config.ConfigStore;
import dev.ignis.config.SecretSealer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request whose path holds a character that the HTTP server lets through but no client can sign (the
 * SDK's signer cannot even build its URI), from a holder of a real access key: refused as a bad
 * signature (403), not answered with a 500 internal failure. Found running AWS's get-space vectors.
 */
class SigV4OddPathTest {
    @TempDir Path dir;
    ConfigStore config;
    FrontendServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (config != null) {
            config.close();
        }
    }

    @Test
    void aPathNoSignerCanBuildIsAnInvalidSignatureNotAnInternalFailure() throws Exception {
        config = new ConfigStore(DirectJournal::new, new CodeStore(dir), SecretSealer.open(dir), Set.of("python3.11"), Clock.systemUTC());
        ConfigStore.IssuedKey key = config.createAccount("test");
        var verifier = new SigV4Verifier(id -> config.image().key(id)
                .map(k -> new SigV4Verifier.Caller(k.accountId(), k.accessKeyId(), config.secret(k).orElseThrow())), Clock.systemUTC());
        var api = new LambdaApi(verifier, config, new byte[32], Clock.systemUTC(), (c, n, r, id) -> ApiResponse.empty(501), null, null);
        server = new FrontendServer("127.0.0.1", 0, api, FrontendServer.Limits.defaults());
        String now = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now());
        for (String host : new String[] {"x:port", "x:99999999999", "x:-1", "[::1"}) {
            String answer = send(String.format("GET /2015-03-31/functions/ HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\nAuthorization: %s\r\n"
                    + "Connection: close\r\n\r\n", host, now, authorization(key, now)));
            assertThat(answer).as(host).doesNotContain("ServiceException");
            assertThat(answer.substring(0, answer.indexOf("\r\n"))).as(host).matches("HTTP/1.1 (400|403) .*");
        }
        for (String path : new String[] {"/2015-03-31/functions/a|b", "/2015-03-31/functions/{a}", "/2015-03-31/functions/a^b",
                "/2015-03-31/functions/a\"b", "/2015-03-31/functions/a`b", "/2015-03-31/functions/a%zz", "/2015-03-31/functions/a\\b"}) {
            String answer = send("GET " + path + " HTTP/1.1\r\nHost: x\r\nX-Amz-Date: " + now + "\r\nAuthorization: "
                    + authorization(key, now) + "\r\nConnection: close\r\n\r\n");
            assertThat(answer).as(path).doesNotContain("ServiceException");
            assertThat(answer.substring(0, answer.indexOf("\r\n"))).as(path).matches("HTTP/1.1 (400|403|404) .*");
        }
    }

    static String authorization(ConfigStore.IssuedKey key, String now) {
        return "AWS4-HMAC-SHA256 Credential=" + key.accessKeyId() + "/" + now.substring(0, 8)
                + "/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0".repeat(64);
    }

    String send(String request) throws java.io.IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", server.port()));
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return FrontendServerLimitsTest.answer(s, 10_000);
        }
    }
}
