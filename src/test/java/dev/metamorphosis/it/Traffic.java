package dev.metamorphosis.it;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Numbered QoS 1 messages of 200 bytes on a few MQTT topics, published at a steady pace, and the count of what
 * reached Kafka: lost, duplicated, out of order per topic.
 */
public final class Traffic implements AutoCloseable {

    /** What reached Kafka of what was published. */
    public record Tally(long published, long delivered, long lost, long duplicated, long reordered) {
        public String line(String scenario, String delivery) {
            return String.format("RESULT | %s | %s | published %d | delivered %d | lost %d | duplicated %d | "
                                 + "out of order %d", scenario, delivery, published, delivered, lost, duplicated,
                    reordered);
        }
    }

    /**
     * A record of this traffic: its MQTT topic and number. The record is the Go envelope, or (a raw rule of
     * TOPIC_MAP with headers) the payload as published, its MQTT topic in header {@code mqtt.topic}.
     */
    public record Numbered(String topic, int seq) {
        static Numbered of(ConsumerRecord<byte[], byte[]> r) {
            String topic;
            String payload;
            Header mqttTopic = r.headers().lastHeader("mqtt.topic");
            if (r.value().length > 0 && r.value()[0] == '{') {
                GoEnvelope envelope = GoEnvelope.parse(r.value());
                topic = envelope.topic();
                payload = new String(envelope.content(), StandardCharsets.US_ASCII);
            } else if (mqttTopic != null) {
                topic = new String(mqttTopic.value(), StandardCharsets.UTF_8);
                payload = new String(r.value(), StandardCharsets.US_ASCII);
            } else {
                return new Numbered("", -1);
            }
            int space = payload.indexOf(' ');
            return new Numbered(topic, space > 0 ? Integer.parseInt(payload.substring(0, space)) : -1);
        }
    }

    /** Prints a result line and appends it to {@code target/delivery-results.txt}, where the table of docs/delivery.md comes from. */
    public static void report(String line) {
        System.out.println(line);
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of("target", "delivery-results.txt"), line + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Bytes of every payload. */
    private static final int SIZE = 200;
    private final String prefix;
    private final int[] next;
    private volatile Thread pacer;
    private volatile boolean running;
    private Publisher publisher;

    public Traffic(String prefix, int topics) {
        this.prefix = prefix;
        this.next = new int[topics];
    }

    private String topic(int i) {
        return prefix + "/t" + i;
    }

    /** Publishes {@code count} messages at once, round robin over the topics. */
    public synchronized void burst(String mqttUrl, int count) {
        connect(mqttUrl);
        for (int n = 0; n < count; n++) {
            publishNext(n % next.length);
        }
        publisher.flush();
    }

    /** Starts publishing {@code perSecond} messages a second, until {@link #stop}. */
    public void start(String mqttUrl, int perSecond) {
        connect(mqttUrl);
        running = true;
        pacer = new Thread(() -> {
            long interval = 1_000_000_000L / perSecond;
            long due = System.nanoTime();
            int n = 0;
            while (running) {
                synchronized (this) {
                    publishNext(n++ % next.length);
                }
                due += interval;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    try {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }, "traffic-" + prefix);
        pacer.start();
    }

    /** Stops publishing and waits for the broker to acknowledge what was published. */
    public void stop() {
        running = false;
        if (pacer != null) {
            try {
                pacer.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            pacer = null;
        }
        if (publisher != null) {
            publisher.close();
            publisher = null;
        }
    }

    private void connect(String mqttUrl) {
        if (publisher == null) {
            publisher = new Publisher(mqttUrl, 100);
        }
    }

    private void publishNext(int t) {
        byte[] payload = new byte[SIZE];
        number(payload, next[t]++);
        publisher.publish(topic(t), payload, 1);
    }

    /** Writes a message's content: its number on its topic and a space, then filler. */
    private static void number(byte[] payload, int seq) {
        java.util.Arrays.fill(payload, (byte) '.');
        byte[] number = (seq + " ").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(number, 0, payload, 0, number.length);
    }

    /**
     * Publishes {@code count} messages at a steady {@code perSecond} in total (0: as fast as the broker takes them)
     * over {@code connections} connections of the raw publisher ({@link Load}: one Paho connection reaches a few
     * thousand a second, less with a stock Mosquitto's 20 in flight), round robin over the topics, each topic on one
     * connection, so each in order (on Load's topic names, {@code prefix/g<t%3>/t<t>}, not those of {@link #start}
     * and {@link #burst}). Returns once the broker has acknowledged all of them, with the rate reached.
     */
    public synchronized Load.Run publish(String host, int port, int connections, int count, int perSecond) {
        if (next.length < connections) {
            throw new IllegalArgumentException("fewer topics than connections: the order per topic is not defined");
        }
        int[] first = next.clone();
        int topics = next.length;
        Load.Run run = new Load(host, port, connections, 65535).publish(prefix, topics, count, 1, perSecond,
                new Load.Content() {
                    @Override
                    public byte[] buffer() {
                        return new byte[SIZE];
                    }

                    @Override
                    public void write(byte[] payload, int connection, int seq, int n) {
                        number(payload, first[n % topics] + n / topics);
                    }
                });
        for (int t = 0; t < topics; t++) {
            next[t] += count / topics + (t < count % topics ? 1 : 0);
        }
        return run;
    }

    public synchronized long published() {
        long total = 0;
        for (int n : next) {
            total += n;
        }
        return total;
    }

    /** Counts the records of the topic that carry this traffic. */
    public synchronized Tally tally(List<ConsumerRecord<byte[], byte[]>> records) {
        Map<String, Set<Integer>> seen = new HashMap<>();
        Map<String, Integer> highest = new HashMap<>();
        long delivered = 0;
        long duplicated = 0;
        long reordered = 0;
        for (ConsumerRecord<byte[], byte[]> r : records) {
            Numbered m = Numbered.of(r);
            if (!m.topic().startsWith(prefix + "/")) {
                continue;
            }
            String topic = m.topic();
            int seq = m.seq();
            delivered++;
            if (!seen.computeIfAbsent(topic, k -> new HashSet<>()).add(seq)) {
                duplicated++;
            } else if (seq < highest.getOrDefault(topic, -1)) {
                reordered++;
            }
            highest.merge(topic, seq, Math::max);
        }
        long distinct = seen.values().stream().mapToLong(Set::size).sum();
        return new Tally(published(), delivered, published() - distinct, duplicated, reordered);
    }

    /** Waits until Kafka holds every message published, and returns the tally; fails with the tally if not. */
    public Tally awaitAll(String bootstrap, String kafkaTopic, Duration atMost) {
        return awaitAll(bootstrap, List.of(kafkaTopic), atMost);
    }

    /**
     * Waits until the Kafka topics together hold every message published (a TOPIC_MAP spreads the MQTT topics over
     * several), and returns the tally; fails with the tally if not.
     */
    public Tally awaitAll(String bootstrap, List<String> kafkaTopics, Duration atMost) {
        try {
            // counting the records is cheap; reading them all is not, at 100,000 and more
            // a broker that cannot count yet (just restarted) is asked again; one that never does fails the wait
            Awaitility.await(prefix + " all delivered").atMost(atMost).pollInterval(Duration.ofSeconds(1))
                    .ignoreExceptionsInstanceOf(IllegalStateException.class)
                    .until(() -> kafkaTopics.stream().mapToLong(t -> Records.count(bootstrap, t)).sum() >= published()
                                 && tally(read(bootstrap, kafkaTopics)).lost() == 0);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("not everything arrived: " + tally(read(bootstrap, kafkaTopics)), e);
        }
        return tally(read(bootstrap, kafkaTopics));
    }

    /**
     * The records of several Kafka topics, one topic after the other, each in offset order: the order of an MQTT
     * topic, which goes to one Kafka topic, is kept.
     */
    static List<ConsumerRecord<byte[], byte[]>> read(String bootstrap, List<String> kafkaTopics) {
        List<ConsumerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
        for (String topic : kafkaTopics) {
            records.addAll(Records.read(bootstrap, topic));
        }
        return records;
    }

    /**
     * Waits until the last message of every topic is in Kafka (by then, with order kept, everything that will arrive
     * has), publishing one more per topic now and then in case the spool dropped the last ones.
     */
    public Tally awaitTail(String mqttUrl, String bootstrap, String kafkaTopic, Duration atMost) {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (true) {
            burst(mqttUrl, next.length);
            Map<String, Integer> last = new LinkedHashMap<>();
            synchronized (this) {
                for (int t = 0; t < next.length; t++) {
                    last.put(topic(t), next[t] - 1);
                }
            }
            try {
                Awaitility.await(prefix + " tail").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> hasAll(Records.read(bootstrap, kafkaTopic), last));
                return tally(Records.read(bootstrap, kafkaTopic));
            } catch (ConditionTimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the last messages never arrived: "
                                             + tally(Records.read(bootstrap, kafkaTopic)), e);
                }
            }
        }
    }

    private static boolean hasAll(List<ConsumerRecord<byte[], byte[]>> records, Map<String, Integer> last) {
        Set<String> found = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            Numbered m = Numbered.of(r);
            if (last.containsKey(m.topic()) && last.get(m.topic()) == m.seq()) {
                found.add(m.topic());
            }
        }
        return found.size() == last.size();
    }

    @Override
    public void close() {
        stop();
    }
}
