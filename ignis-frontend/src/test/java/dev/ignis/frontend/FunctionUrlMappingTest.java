package dev.ignis.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.common.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pure parts of function URLs: host and path routing, the 2.0 event, and the response mapping of hostile answers. */
class FunctionUrlMappingTest {
    private static final String ID = "abcdefghijklmnopqrstuvwxyz012345";
    private final UrlHosts hosts = UrlHosts.of("localhost");

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void hostsAndPathsNameTheUrl() {
        assertThat(hosts.idOfHost(ID + ".lambda-url.us-east-1.localhost:9000")).isEqualTo(ID);
        assertThat(hosts.idOfHost(ID.toUpperCase() + ".LAMBDA-URL.us-east-1.localhost.")).isEqualTo(ID);
        assertThat(hosts.idOfHost("127.0.0.1:9000")).isNull();
        assertThat(hosts.idOfHost(ID + ".lambda-url.eu-west-1.localhost")).isNull();
        assertThat(hosts.url(ID, "127.0.0.1:9123")).isEqualTo("http://" + ID + ".lambda-url.us-east-1.localhost:9123/");
        assertThat(hosts.url(ID, null)).isEqualTo("http://" + ID + ".lambda-url.us-east-1.localhost/");
        assertThat(UrlHosts.of("Fn.Example.COM").idOfHost(ID + ".lambda-url.us-east-1.fn.example.com")).isEqualTo(ID);
        assertThat(UrlHosts.of("fn.example.com").idOfHost(ID + ".lambda-url.us-east-1.localhost")).isNull();
        assertThat(UrlHosts.idOfPath("/lambda-url/" + ID + "/a/b")).isEqualTo(ID);
        assertThat(UrlHosts.idOfPath("/2015-03-31/functions")).isNull();
        assertThat(UrlHosts.functionPath("/lambda-url/" + ID, true)).isEqualTo("/");
        assertThat(UrlHosts.functionPath("/lambda-url/" + ID + "/a/b", true)).isEqualTo("/a/b");
        assertThat(UrlHosts.validId("x".repeat(31))).isFalse();
        assertThat(UrlHosts.validId(ID)).isTrue();
    }

    @Test
    void textIsPassedAsTextAndEverythingElseAsBase64() throws Exception {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("content-type", List.of("text/plain"));
        byte[] notUtf8 = {(byte) 0xff, (byte) 0xfe, 'a'};
        var e1 = Json.mapper().readTree(UrlEvent.build(new ApiRequest("POST", "/p", null, headers, notUtf8), "/p", ID, "1", null, null,
                "r", Instant.EPOCH));
        assertThat(e1.path("isBase64Encoded").asBoolean()).as("declared text but not UTF-8: the bytes survive as base64").isTrue();
        assertThat(java.util.Base64.getDecoder().decode(e1.path("body").asText())).isEqualTo(notUtf8);
        var e2 = Json.mapper().readTree(UrlEvent.build(new ApiRequest("POST", "/p", "a=%zz&b=1", headers, utf8("héllo")), "/p", ID, "1",
                null, null, "r", Instant.EPOCH));
        assertThat(e2.path("body").asText()).isEqualTo("héllo");
        assertThat(e2.path("queryStringParameters").has("a")).as("an undecodable pair is left to rawQueryString").isFalse();
        assertThat(e2.path("queryStringParameters").path("b").asText()).isEqualTo("1");
    }

    @Test
    void responsesMapAsLambdaMapsThem() {
        var plain = UrlResponse.map(utf8("[1,2]"));
        assertThat(plain.status()).isEqualTo(200);
        assertThat(new String(plain.body(), StandardCharsets.UTF_8)).isEqualTo("[1,2]");
        var shaped = UrlResponse.map(utf8("{\"statusCode\":204,\"body\":\"ignored\",\"headers\":{\"Transfer-Encoding\":\"chunked\",\"X-A\":1}}"));
        assertThat(shaped.status()).isEqualTo(204);
        assertThat(shaped.body()).isEmpty();
        assertThat(shaped.headers()).containsEntry("x-a", "1").doesNotContainKey("transfer-encoding");
    }

    @Test
    void badResponsesAre502s() {
        for (String bad : new String[] {"not json", "", "{\"statusCode\":99}", "{\"statusCode\":200,\"headers\":[]}",
                "{\"statusCode\":200,\"headers\":{\"bad name\":\"v\"}}", "{\"statusCode\":200,\"headers\":{\"x\":\"a\\nb\"}}",
                "{\"statusCode\":200,\"cookies\":\"a=1\"}", "{\"statusCode\":200,\"cookies\":[\"a=1\\r\\nX: y\"]}",
                "{\"statusCode\":200,\"headers\":{\"x\":{\"nested\":1}}}"}) {
            assertThatThrownBy(() -> UrlResponse.map(utf8(bad))).as(bad).isInstanceOf(UrlResponse.BadResponse.class);
        }
    }
}
