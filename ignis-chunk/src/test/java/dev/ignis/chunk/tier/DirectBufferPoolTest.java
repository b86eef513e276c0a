package dev.ignis.chunk.tier;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DirectBufferPoolTest {
    @Test
    void aBufferComesBackClearedToTheRequestedSizeAndIsReused() {
        DirectBufferPool pool = new DirectBufferPool(2);
        ByteBuffer a = pool.acquire(1000);
        assertThat(a.isDirect()).isTrue();
        assertThat(a.position()).isZero();
        assertThat(a.limit()).isEqualTo(1000);
        a.put(new byte[1000]);
        pool.release(a);
        ByteBuffer b = pool.acquire(500);
        assertThat(b).isSameAs(a);
        assertThat(b.position()).isZero();
        assertThat(b.limit()).isEqualTo(500);
    }

    @Test
    void aTooSmallPooledBufferIsReplacedByOneThatFits() {
        DirectBufferPool pool = new DirectBufferPool(2);
        ByteBuffer small = pool.acquire(10);
        pool.release(small);
        ByteBuffer big = pool.acquire(small.capacity() + 1);
        assertThat(big).isNotSameAs(small);
        assertThat(big.capacity()).isGreaterThanOrEqualTo(small.capacity() + 1);
        assertThat(big.limit()).isEqualTo(small.capacity() + 1);
        assertThat(pool.pooled()).isZero();
    }

    @Test
    void thePoolKeepsAtMostItsBound() {
        DirectBufferPool pool = new DirectBufferPool(3);
        List<ByteBuffer> out = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            out.add(pool.acquire(4096));
        }
        java.util.Set<ByteBuffer> distinct = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        distinct.addAll(out); // ByteBuffer.equals compares contents; identity is what matters here
        assertThat(distinct).hasSize(10);
        out.forEach(pool::release);
        assertThat(pool.pooled()).isEqualTo(3);
    }
}
