package dev.ignis.worker.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RuntimeApiTest {
    /** A connection's GET /next as its own thread sees it: the invocation handed out, or null when there is none. */
    private static Invocation next(RuntimeApi api) throws InterruptedException {
        return api.next(RuntimeConnection.detached(api)) instanceof RuntimeApi.Next.Work w ? w.invocation() : null;
    }

    private static Invocation inv(String id) {
        return new Invocation(id, new byte[0], 0, "arn", "t", null, null, new CompletableFuture<>());
    }

    @Test
    void stateTransitions() throws Exception {
        RuntimeApi api = new RuntimeApi();
        assertThat(api.initError(new RuntimeEvent.Error(new byte[0], null)).status()).isEqualTo(202);
        RuntimeApi ok = new RuntimeApi();
        Invocation a = inv("a");
        assertThat(ok.offer(a)).isInstanceOf(RuntimeApi.Offer.Queued.class);
        assertThat(ok.offer(inv("b"))).as("one at a time").isInstanceOf(RuntimeApi.Offer.Busy.class);
        assertThat(next(ok)).isSameAs(a);
        assertThat(ok.init().get()).isInstanceOf(RuntimeEvent.Ready.class);
        assertThat(ok.initError(new RuntimeEvent.Error(new byte[0], null)).status()).isEqualTo(403);
        assertThat(ok.next(RuntimeConnection.detached(ok))).as("/next while unanswered").isInstanceOf(RuntimeApi.Next.Busy.class);
        assertThat(ok.answer("zzz", new RuntimeEvent.Response(new byte[0])).status()).isEqualTo(400);
        assertThat(ok.answer("a", new RuntimeEvent.Response(new byte[] {1})).status()).isEqualTo(202);
        assertThat(a.result().get()).isInstanceOf(RuntimeEvent.Response.class);
        assertThat(ok.answer("a", new RuntimeEvent.Response(new byte[0])).status()).isEqualTo(403);
        Invocation b = inv("b");
        ok.offer(b);
        assertThat(next(ok)).isSameAs(b);
        assertThat(ok.answer("b", new RuntimeEvent.TooLarge(RuntimeApi.MAX_RESPONSE_BYTES)).status()).isEqualTo(413);
        assertThat(b.result().get()).isInstanceOf(RuntimeEvent.TooLarge.class);
    }

    @Test
    void closeWakesABlockedNext() throws Exception {
        RuntimeApi api = new RuntimeApi();
        CompletableFuture<RuntimeApi.Next> got = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                got.complete(api.next(RuntimeConnection.detached(api)));
            } catch (InterruptedException e) {
                got.completeExceptionally(e);
            }
        });
        api.init().get();
        api.close(new IllegalStateException("gone"));
        assertThat(got.get()).isInstanceOf(RuntimeApi.Next.Gone.class);
        assertThat(api.offer(inv("x"))).isInstanceOf(RuntimeApi.Offer.Gone.class);
        assertThat(api.offerToDrive(inv("y"))).isInstanceOf(RuntimeApi.Offer.Gone.class);
    }
}
