package dev.metamorphosis.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time and memory of a process, and how busy the machine's CPUs are, from Linux's /proc. */
final class Proc {

    /** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on every Linux the benchmark runs on). */
    private static final double TICKS = 100.0;

    private Proc() {
    }

    /** User plus system CPU seconds the process has used so far; 0 once it has gone. */
    static double cpuSeconds(long pid) {
        double[] times = times(pid);
        return times[0] + times[1];
    }

    /** System (kernel) CPU seconds the process has used so far. */
    static double systemSeconds(long pid) {
        return times(pid)[1];
    }

    private static double[] times(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new double[] {Long.parseLong(fields[11]) / TICKS, Long.parseLong(fields[12]) / TICKS};
        } catch (IOException | RuntimeException e) {
            return new double[] {0, 0};
        }
    }

    /** CPU seconds so far of each thread of the process, by thread name (as Linux keeps it, 15 characters). */
    static java.util.Map<String, Double> threadSeconds(long pid) {
        java.util.Map<String, Double> seconds = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                try {
                    String name = Files.readString(task.resolve("comm")).strip().replaceAll("[0-9]+", "N");
                    String stat = Files.readString(task.resolve("stat"));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    seconds.merge(name, (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS,
                            Double::sum);
                } catch (IOException | RuntimeException e) {
                    // the thread ended
                }
            }
        } catch (IOException e) {
            // the process ended
        }
        return seconds;
    }

    /** Peak resident set size of the process so far (VmHWM), in MiB; 0 once it has gone. */
    static double peakRssMiB(long pid) {
        return status(pid, "VmHWM:");
    }

    /** Bytes the process has caused to be written to storage so far ({@code write_bytes} of /proc/pid/io); 0 once gone. */
    static long writeBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
                if (line.startsWith("write_bytes:")) {
                    return Long.parseLong(line.substring("write_bytes:".length()).strip());
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return 0;
    }

    /** Resident set size now (VmRSS), in MiB. */
    static double rssMiB(long pid) {
        return status(pid, "VmRSS:");
    }

    private static double status(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).replace("kB", "").strip()) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return 0;
    }

    /** The machine's CPU ticks so far: {busy, total}, over all CPUs. */
    static long[] machineTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).split(" +");
            long total = 0;
            for (int i = 1; i < Math.min(f.length, 9); i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 1};
        }
    }

    /** Share of the machine's CPU time that was busy between two readings of {@link #machineTicks}. */
    static double busy(long[] before, long[] after) {
        return (after[0] - before[0]) / (double) Math.max(1, after[1] - before[1]);
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }
}
