package dev.metamorphosis.it;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** Kafka frozen (SIGSTOP) for 30 s mid-stream: it keeps its connections and answers nothing, then goes on (SIGCONT). */
@Execution(ExecutionMode.CONCURRENT)
@Order(2) // early, after the durable outages: 1.5 to 2 minutes, longer than most (junit-platform.properties)
@Timeout(value = 8, unit = TimeUnit.MINUTES) // its longest run in ./mvnw verify: 158 s
class KafkaFrozenIT {

    @Test
    void should_lose_nothing_and_keep_order_when_kafka_hangs_for_30_s() {
        KafkaOutage.run("kafka-frozen", Duration.ofSeconds(30), KafkaBroker::freeze, 'T', KafkaBroker::thaw);
    }
}
