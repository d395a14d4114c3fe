package dev.metamorphosis.it;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** Kafka killed (SIGKILL) for 30 s mid-stream and started again on the same port and log directory. */
@Execution(ExecutionMode.CONCURRENT)
@Order(2) // early, after the durable outages: 1.5 to 2 minutes, longer than most (junit-platform.properties)
@Timeout(value = 10, unit = TimeUnit.MINUTES) // its longest run in ./mvnw verify: 222 s
class KafkaKilledIT {

    @Test
    void should_lose_nothing_and_keep_order_when_kafka_is_killed_for_30_s() {
        KafkaOutage.run("kafka-killed", Duration.ofSeconds(30), KafkaBroker::kill, 'X', KafkaBroker::restart);
    }
}
