package dev.metamorphosis.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who used the machine's CPU: a reading of the CPU seconds of the bridges (and of the first bridge's threads), the MQTT
 * broker (when it is a process of its own), the Kafka broker, this JVM (the publisher and the plain subscriber) and the
 * whole machine. The difference of two readings says what a run cost.
 */
record Usage(long nanos, double bridges, Map<String, Double> threads, double broker, double kafka, double benchmark,
             long[] machine) {

    static Usage now(List<Long> bridgePids, long brokerPid) {
        double bridges = bridgePids.stream().mapToDouble(Proc::cpuSeconds).sum();
        Map<String, Double> threads = bridgePids.isEmpty() ? Map.of() : Proc.threadSeconds(bridgePids.get(0));
        long self = ProcessHandle.current().pid();
        double kafka = ProcessHandle.current().children()
                .filter(p -> p.pid() != brokerPid && !bridgePids.contains(p.pid()))
                .filter(p -> p.info().command().orElse("").endsWith("java"))
                .mapToDouble(p -> Proc.cpuSeconds(p.pid())).sum();
        return new Usage(System.nanoTime(), bridges, threads, brokerPid < 0 ? 0 : Proc.cpuSeconds(brokerPid), kafka,
                Proc.cpuSeconds(self), Proc.machineTicks());
    }

    double seconds(Usage before) {
        return (nanos - before.nanos) / 1e9;
    }

    double bridgeCpu(Usage before) {
        return bridges - before.bridges;
    }

    /** CPU seconds of the first bridge's JIT compiler threads since the earlier reading. */
    double compilerCpu(Usage before) {
        double total = 0;
        for (var e : threads.entrySet()) {
            if (e.getKey().contains("CompilerThre")) {
                total += e.getValue() - before.threads.getOrDefault(e.getKey(), 0.0);
            }
        }
        return total;
    }

    /** Share of one core the MQTT broker used since the earlier reading; -1 when it is not a process of its own. */
    double brokerShare(Usage before, boolean ownProcess) {
        return ownProcess ? (broker - before.broker) / seconds(before) : -1;
    }

    double machineBusy(Usage before) {
        return Proc.busy(before.machine, machine);
    }

    /** CPU seconds by consumer since the earlier reading, and the first bridge's busiest threads. */
    String breakdown(Usage before) {
        double wall = seconds(before);
        long[] m = machine;
        double machineSeconds = (m[0] - before.machine[0]) / 100.0;
        StringBuilder out = new StringBuilder(String.format(
                "    CPU seconds over %.1f s: bridge %.1f, MQTT broker %.1f, Kafka %.1f, publisher and benchmark %.1f, "
                + "machine %.1f of %.1f%n", wall, bridges - before.bridges, broker - before.broker,
                kafka - before.kafka, benchmark - before.benchmark, machineSeconds,
                (m[1] - before.machine[1]) / 100.0));
        Map<String, Double> used = new LinkedHashMap<>();
        threads.forEach((name, s) -> used.put(name, s - before.threads.getOrDefault(name, 0.0)));
        used.entrySet().stream().filter(e -> e.getValue() >= 0.05)
                .sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
                .forEach(e -> out.append(String.format("      %-16s %5.1f s, %3.0f%% of one core%n", e.getKey(),
                        e.getValue(), 100 * e.getValue() / wall)));
        return out.toString();
    }
}
