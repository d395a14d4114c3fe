package dev.metamorphosis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The thread that sends QoS 1 acknowledgements: every one handed over is sent once, in order, also when the subscriber
 * closes it (it closes it before the MQTT disconnect, so an acknowledgement left queued would make the broker deliver
 * the message again). Whether bursts make the bridge cheaper is the benchmark's to say.
 */
class AcknowledgementsTest {

    private record Sent(int id, String thread) {
    }

    private final List<Sent> sent = Collections.synchronizedList(new ArrayList<>());

    private void record(int id) {
        sent.add(new Sent(id, Thread.currentThread().getName()));
    }

    private List<Integer> ids() {
        synchronized (sent) {
            return sent.stream().map(Sent::id).toList();
        }
    }

    @Test
    void should_send_every_acknowledgement_once_in_order_on_its_own_thread() throws InterruptedException {
        Acknowledgements acks = new Acknowledgements(this::record, "MQTT Ack: test");
        IntStream.range(0, 100_000).forEach(acks::add);

        await().atMost(Duration.ofSeconds(30)).until(() -> sent.size() >= 100_000);
        acks.close(30_000);

        assertThat(ids()).containsExactlyElementsOf(IntStream.range(0, 100_000).boxed().toList());
        assertThat(sent).extracting(Sent::thread).containsOnly("MQTT Ack: test");
    }

    @Test
    void should_hold_those_handed_over_while_more_follow_and_send_them_in_one_burst_on_release()
            throws InterruptedException {
        List<List<Integer>> bursts = Collections.synchronizedList(new ArrayList<>());
        Acknowledgements acks = new Acknowledgements(this::record, ids -> bursts.add(List.copyOf(ids)), () -> true,
                TimeUnit.MINUTES.toMillis(10), "MQTT Ack: held");
        awaitWaiting("MQTT Ack: held"); // else it takes what it finds as it starts, not woken
        for (int id = 0; id < 1_000; id++) {
            acks.add(id);
            Thread.yield(); // room for the sender to run, were it woken
        }
        assertThat(bursts).as("sent while more followed").isEmpty();

        acks.release();

        await("the held acknowledgements").atMost(Duration.ofSeconds(30)).until(() -> !bursts.isEmpty());
        assertThat(bursts).as("one burst").containsExactly(IntStream.range(0, 1_000).boxed().toList());
        assertThat(sent).as("none one by one").isEmpty();
        acks.close(30_000);
    }

    @Test
    void should_send_those_held_with_the_last_message_of_the_read() throws InterruptedException {
        List<List<Integer>> bursts = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean moreFollow = new AtomicBoolean(true);
        Acknowledgements acks = new Acknowledgements(this::record, ids -> bursts.add(List.copyOf(ids)),
                moreFollow::get, TimeUnit.MINUTES.toMillis(10), "MQTT Ack: last of read");
        awaitWaiting("MQTT Ack: last of read"); // else it takes what it finds as it starts: [1], then [2, 3]
        acks.add(1);
        acks.add(2);
        moreFollow.set(false);

        acks.add(3); // the last of its read burst

        await("the burst").atMost(Duration.ofSeconds(30)).until(() -> !bursts.isEmpty());
        assertThat(bursts).containsExactly(List.of(1, 2, 3));
        acks.close(30_000);
    }

    @Test
    void should_send_held_acknowledgements_after_the_hold_when_not_released() throws InterruptedException {
        List<List<Integer>> bursts = Collections.synchronizedList(new ArrayList<>());
        Acknowledgements acks = new Acknowledgements(this::record, ids -> bursts.add(List.copyOf(ids)), () -> true, 50,
                "MQTT Ack: test");

        acks.add(1);
        acks.add(2);

        await("the held acknowledgements, past their hold").atMost(Duration.ofSeconds(30))
                .until(() -> bursts.stream().mapToInt(List::size).sum() >= 2);
        assertThat(bursts.stream().flatMap(List::stream)).containsExactly(1, 2);
        acks.close(30_000);
    }

    @Test
    void should_send_what_is_queued_before_close_returns() throws Exception {
        CountDownLatch sending = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Acknowledgements acks = new Acknowledgements(id -> {
            if (id == 0) {
                sending.countDown();
                awaitQuietly(release);
            }
            record(id);
        }, "MQTT Ack: test");
        acks.add(0);
        assertThat(sending.await(30, TimeUnit.SECONDS)).as("the first acknowledgement is being sent").isTrue();
        IntStream.range(1, 1_000).forEach(acks::add); // queued behind it

        CompletableFuture<List<Integer>> sentWhenClosed = CompletableFuture.supplyAsync(() -> {
            try {
                acks.close(30_000);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return ids();
        });
        release.countDown();

        assertThat(sentWhenClosed.get(60, TimeUnit.SECONDS)).as("sent by the time close returned")
                .containsExactlyElementsOf(IntStream.range(0, 1_000).boxed().toList());
    }

    @Test
    void should_go_on_sending_after_one_that_fails() throws InterruptedException {
        Acknowledgements acks = new Acknowledgements(id -> {
            if (id == 1) {
                throw new IllegalStateException("refused on purpose");
            }
            record(id);
        }, "MQTT Ack: test");
        IntStream.range(0, 100).forEach(acks::add);

        await("every acknowledgement but the one that failed").atMost(Duration.ofSeconds(30))
                .until(() -> sent.size() >= 99);
        acks.close(30_000);

        assertThat(ids()).containsExactlyElementsOf(IntStream.range(0, 100).filter(i -> i != 1).boxed().toList());
    }

    @Test
    void should_send_on_the_callers_thread_once_closed() throws InterruptedException {
        Acknowledgements acks = new Acknowledgements(this::record, "MQTT Ack: test");
        acks.close(30_000);

        acks.add(7);

        assertThat(sent).containsExactly(new Sent(7, Thread.currentThread().getName()));
    }

    /** Waits until the sender thread of this name waits for acknowledgements. */
    private static void awaitWaiting(String name) {
        await(name + " waiting").atMost(Duration.ofSeconds(30)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals(name) && t.getState() == Thread.State.TIMED_WAITING));
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
