package dev.metamorphosis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** When the queue of {@code seda:spool} wakes the thread that builds the batches ({@link SpoolQueue#wanted}). */
class SpoolQueueTest {

    private final CamelContext context = new DefaultCamelContext();
    private final SpoolQueue queue = new SpoolQueue();

    SpoolQueueTest() {
        queue.exchanges(s -> {
            Exchange e = new DefaultExchange(context);
            e.getMessage().setBody(new String(s.value(), StandardCharsets.UTF_8));
            return e;
        });
    }

    @AfterEach
    void close() throws Exception {
        context.close();
    }

    @Test
    void the_batch_thread_is_woken_once_as_many_envelopes_wait_as_the_batch_wants() throws Exception {
        queue.wanted(3);
        Polled polled = pollInThread();
        queue.put(envelope("e1"));
        queue.put(envelope("e2"));
        awaitWaiting(polled);
        assertThat(polled.result).as("woken with 2 of 3 waiting").isNotDone();
        queue.put(envelope("e3"));
        assertThat(polled.result.get(60, TimeUnit.SECONDS)).isEqualTo("e1 with 2 behind");
    }

    @Test
    void the_flush_timers_exchange_wakes_the_batch_thread_however_few_envelopes_wait() throws Exception {
        queue.wanted(1000);
        queue.put(envelope("e1"));
        Exchange flush = new DefaultExchange(context);
        flush.getMessage().setBody("flush");
        Polled polled = pollInThread();
        awaitWaiting(polled);
        queue.offer(flush);
        assertThat(polled.result.get(60, TimeUnit.SECONDS)).isEqualTo("e1 with 1 behind");
        // the timer's exchange is next, with no envelope behind it: returned at once, not after the poll's 10 minutes
        CompletableFuture<Exchange> next = CompletableFuture.supplyAsync(() -> poll(10, TimeUnit.MINUTES));
        assertThat(next.get(60, TimeUnit.SECONDS)).isSameAs(flush);
    }

    @Test
    void after_its_timeout_a_poll_returns_the_envelopes_that_wait_however_few() throws Exception {
        queue.wanted(1000);
        queue.put(envelope("e1"));
        assertThat(queue.poll(10, TimeUnit.MILLISECONDS).getMessage().getBody()).isEqualTo("e1");
        assertThat(queue.poll(10, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void with_one_wanted_each_envelope_wakes_the_batch_thread() throws Exception {
        queue.wanted(1);
        Polled polled = pollInThread();
        awaitWaiting(polled);
        queue.put(envelope("e1"));
        assertThat(polled.result.get(60, TimeUnit.SECONDS)).isEqualTo("e1 with 0 behind");
    }

    /** A poll of up to 10 minutes on a thread of its own; its result is the exchange and what waited behind it. */
    private record Polled(Thread thread, CompletableFuture<String> result) {
    }

    private Polled pollInThread() {
        CompletableFuture<String> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            Exchange e = poll(10, TimeUnit.MINUTES);
            result.complete(e.getMessage().getBody(String.class) + " with " + queue.size() + " behind");
        }, "seda-spool-test");
        t.setDaemon(true);
        t.start();
        return new Polled(t, result);
    }

    private Exchange poll(long timeout, TimeUnit unit) {
        try {
            return queue.poll(timeout, unit);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void awaitWaiting(Polled polled) {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> polled.thread.getState() == Thread.State.TIMED_WAITING || polled.result.isDone());
    }

    private static SpoolQueue.Spooled envelope(String value) {
        return new SpoolQueue.Spooled(value.getBytes(StandardCharsets.UTF_8), "t", null, null, List.of(), 0, null, -1,
                0, 0);
    }
}
