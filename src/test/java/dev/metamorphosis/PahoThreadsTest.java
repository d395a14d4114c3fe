package dev.metamorphosis;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import dev.metamorphosis.it.MqttBroker;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.internal.CommsCallback;
import org.eclipse.paho.mqttv5.client.internal.CommsReceiver;
import org.eclipse.paho.mqttv5.client.internal.CommsSender;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class PahoThreadsTest {

    private final PahoThreads threads = new PahoThreads("PahoThreadsTest");
    private final CountDownLatch stop = new CountDownLatch(1);

    @AfterEach
    void stopThreads() {
        stop.countDown();
        threads.shutdownNow();
    }

    @Test
    void a_thread_started_under_its_lifecycle_lock_runs_before_submit_returns() {
        Task task = new Task(stop);
        synchronized (task.lifecycle) { // as Paho's start() holds it when it submits
            threads.submit(task);
            assertThat(task.isRunning()).as("running when submit returns").isTrue();
        }
        assertThat(threads.spared()).isEqualTo(1);
    }

    @Test
    void a_task_without_a_lifecycle_lock_is_only_started() {
        CountDownLatch ran = new CountDownLatch(1);
        threads.submit(ran::countDown);
        await().atMost(Duration.ofSeconds(30)).until(() -> ran.getCount() == 0);
        assertThat(threads.spared()).isZero();
    }

    @Test
    void paho_s_receiver_sender_and_callback_have_the_lock_and_state_it_waits_on() throws Exception {
        for (Class<?> type : new Class<?>[] {CommsReceiver.class, CommsSender.class, CommsCallback.class}) {
            assertThat(type.getDeclaredField("lifecycle").getType()).as(type.getSimpleName()).isEqualTo(Object.class);
            assertThat(type.getMethod("isRunning").getReturnType()).as(type.getSimpleName()).isEqualTo(boolean.class);
        }
    }

    @Test
    void a_paho_connect_starts_its_three_threads_without_waiting_for_them() throws Exception {
        try (MqttBroker broker = MqttBroker.start("paho-threads", false)) {
            MqttAsyncClient client = new MqttAsyncClient("tcp://127.0.0.1:" + broker.port(), "paho-threads",
                    new MemoryPersistence(), null, threads);
            try {
                client.connect(new MqttConnectionOptions()).waitForCompletion(30_000);
                assertThat(client.isConnected()).isTrue();
                assertThat(threads.spared()).as("receiver, sender and callback ran before submit returned")
                        .isEqualTo(3);
            } finally {
                if (client.isConnected()) {
                    client.disconnect().waitForCompletion(30_000);
                }
                client.close(true);
            }
        }
    }

    /** A task with Paho's protocol: its state changes under {@code lifecycle}, which {@code start()} holds. */
    static final class Task implements Runnable {
        final Object lifecycle = new Object();
        private final CountDownLatch stop;
        private boolean running;

        Task(CountDownLatch stop) {
            this.stop = stop;
        }

        @Override
        public void run() {
            synchronized (lifecycle) {
                running = true;
            }
            try {
                stop.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        public boolean isRunning() {
            synchronized (lifecycle) {
                return running;
            }
        }
    }
}
