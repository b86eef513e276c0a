package dev.ignis.worker.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RuntimeApiTest {
    private static Invocation inv(String id) {
        return new Invocation(id, new byte[0], 0, "arn", "t", null, null, new CompletableFuture<>());
    }

    @Test
    void stateTransitions() throws Exception {
        RuntimeApi api = new RuntimeApi();
        assertThat(api.initError(new RuntimeEvent.Error(new byte[0], null)).status()).isEqualTo(202);
        RuntimeApi ok = new RuntimeApi();
        Invocation a = inv("a");
        ok.offer(a);
        assertThatThrownBy(() -> ok.offer(inv("b"))).isInstanceOf(IllegalStateException.class);
        assertThat(ok.next()).isSameAs(a);
        assertThat(ok.init().get()).isInstanceOf(RuntimeEvent.Ready.class);
        assertThat(ok.initError(new RuntimeEvent.Error(new byte[0], null)).status()).isEqualTo(403);
        assertThatThrownBy(ok::next).isInstanceOf(IllegalStateException.class);
        assertThat(ok.answer("zzz", new RuntimeEvent.Response(new byte[0])).status()).isEqualTo(400);
        assertThat(ok.answer("a", new RuntimeEvent.Response(new byte[] {1})).status()).isEqualTo(202);
        assertThat(a.result().get()).isInstanceOf(RuntimeEvent.Response.class);
        assertThat(ok.answer("a", new RuntimeEvent.Response(new byte[0])).status()).isEqualTo(403);
        Invocation b = inv("b");
        ok.offer(b);
        assertThat(ok.next()).isSameAs(b);
        assertThat(ok.answer("b", new RuntimeEvent.TooLarge(RuntimeApi.MAX_RESPONSE_BYTES)).status()).isEqualTo(413);
        assertThat(b.result().get()).isInstanceOf(RuntimeEvent.TooLarge.class);
    }

    @Test
    void closeWakesABlockedNext() throws Exception {
        RuntimeApi api = new RuntimeApi();
        CompletableFuture<Invocation> got = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                got.complete(api.next());
            } catch (InterruptedException e) {
                got.completeExceptionally(e);
            }
        });
        api.init().get();
        api.close(new IllegalStateException("gone"));
        assertThat(got.get()).isNull();
        assertThatThrownBy(() -> api.offer(inv("x"))).isInstanceOf(IllegalStateException.class);
    }
}
