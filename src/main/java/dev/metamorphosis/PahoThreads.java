package dev.metamorphosis;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads of one MQTT client ({@code MqttAsyncClient}): its receiver, sender and callback each on a thread of its
 * own, as Paho starts them without an executor, and its connect, disconnect and keep-alive pings on a small pool.
 * <p>
 * Why not Paho's own threads: Paho 1.2.5 starts each of the three while holding a lock of theirs ({@code lifecycle}),
 * then, the lock released, sleeps 100 ms at a time until the new thread has taken it to say that it runs. The thread
 * never wins that race, so every connect, at start-up and at each reconnect, waited 300 ms before sending CONNECT.
 * Here {@link #submit} waits on that lock instead ({@code wait} lets the new thread take it), until the thread runs;
 * Paho's check then passes at once. A class without that lock or {@code isRunning()} (another Paho) is started the same
 * way, and Paho's sleep happens as before. What upstream should change: wait on the lock in {@code start}, and notify
 * where {@code run} says it runs.
 */
final class PahoThreads extends ScheduledThreadPoolExecutor {

    private static final Logger LOG = LoggerFactory.getLogger("mqtt");
    /** How long {@link #submit} waits for a thread to say it runs before leaving it to Paho's own loop. */
    private static final long RUNNING_WITHIN_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final String clientId;
    private final AtomicInteger spared = new AtomicInteger();

    PahoThreads(String clientId) {
        super(2, r -> new Thread(r, "MQTT Pool: " + clientId));
        this.clientId = clientId;
        setKeepAliveTime(30, TimeUnit.SECONDS);
        allowCoreThreadTimeOut(true);
        setRemoveOnCancelPolicy(true);
        setExecuteExistingDelayedTasksAfterShutdownPolicy(false); // a ping due after the client closed
    }

    /** Starts the task on a thread of its own and returns once it runs, when it is one of Paho's three. */
    @Override
    public Future<?> submit(Runnable task) {
        FutureTask<Void> future = new FutureTask<>(task, null);
        new Thread(future, "MQTT: " + clientId).start(); // Paho names it as it runs
        if (awaitRunning(task)) {
            spared.incrementAndGet();
        }
        return future;
    }

    /** How many threads ran before {@link #submit} returned: Paho's three at each connect. */
    int spared() {
        return spared.get();
    }

    /**
     * Waits, releasing the task's {@code lifecycle} lock that the caller holds, until the task says it runs; returns
     * at once when the caller does not hold such a lock (then there is no race to spare).
     */
    private static boolean awaitRunning(Runnable task) {
        Object lock = lifecycle(task);
        Method running = isRunning(task);
        if (lock == null || running == null || !Thread.holdsLock(lock)) {
            return false;
        }
        long deadline = System.nanoTime() + RUNNING_WITHIN_NANOS;
        try {
            synchronized (lock) {
                while (!Boolean.TRUE.equals(running.invoke(task))) {
                    if (System.nanoTime() - deadline > 0) {
                        return false;
                    }
                    lock.wait(1); // releases the lock, which the new thread takes to say that it runs
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("Could not wait for {} to run: {}", task.getClass().getName(), e.toString());
            return false;
        }
    }

    /** The lock Paho's CommsReceiver, CommsSender and CommsCallback take to change their state, or null. */
    private static Object lifecycle(Runnable task) {
        try {
            Field field = task.getClass().getDeclaredField("lifecycle");
            field.setAccessible(true);
            return field.get(task);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static Method isRunning(Runnable task) {
        try {
            Method method = task.getClass().getMethod("isRunning");
            return method.getReturnType() == boolean.class ? method : null;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }
}
