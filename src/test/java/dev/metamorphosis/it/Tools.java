package dev.metamorphosis.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one way tests find the programs they run (mosquitto, promtool, kubectl, ...): on the {@code PATH}, then in
 * {@code /usr/sbin}, {@code /usr/bin} and {@code /usr/local/bin} (a test JVM's PATH may lack the sbin folders, where
 * Debian puts mosquitto). A test whose tool is missing is skipped, but under {@code CI=true} a tool that
 * {@code .ci/run} installs fails it: a CI run cannot pass without having run every such test.
 */
public final class Tools {

    private static final List<String> FOLDERS = List.of("/usr/sbin", "/usr/bin", "/usr/local/bin");

    /** What {@code .ci/run} installs: mosquitto, and promtool (Debian's prometheus package). */
    private static final Set<String> CI_INSTALLS = Set.of("mosquitto", "promtool");

    private Tools() {
    }

    /** The executable of that name on the PATH or in the usual folders, if installed. */
    public static Optional<Path> find(String name) {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.concat(Stream.of(path.split(File.pathSeparator)), FOLDERS.stream())
                .filter(folder -> !folder.isEmpty()).map(folder -> Path.of(folder, name))
                .filter(Files::isExecutable).findFirst();
    }

    /**
     * The executable, for a test that cannot run without it: skips the test when it is not installed, and fails it
     * instead under {@code CI=true} when {@code .ci/run} installs it.
     */
    public static Path required(String name, String installHint) {
        Optional<Path> executable = optional(name, installHint);
        Assumptions.assumeTrue(executable.isPresent(), name + " is not installed (" + installHint + ")");
        return executable.get();
    }

    /**
     * The executable, for a test that checks more with it where it is installed: empty when it is not, but a failure
     * under {@code CI=true} when {@code .ci/run} installs it.
     */
    public static Optional<Path> optional(String name, String installHint) {
        Optional<Path> executable = find(name);
        if (executable.isEmpty() && ci() && CI_INSTALLS.contains(name)) {
            Assertions.fail(name + " is not installed (" + installHint + "), and CI=true: .ci/run installs it, so a "
                    + "CI run must not skip what needs it");
        }
        return executable;
    }

    /** Whether this is a CI run ({@code CI=true}, as CI services set it). */
    public static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** A tool of the JDK running the tests ({@code java}, {@code jcmd}), from {@code java.home}. */
    public static Path jdk(String name) {
        return Path.of(System.getProperty("java.home"), "bin", name);
    }

    /** Runs {@code jcmd <pid> <command...>} and returns what it printed; fails unless it exits 0. */
    public static String jcmd(long pid, String... command) {
        List<String> line = new ArrayList<>(List.of(jdk("jcmd").toString(), Long.toString(pid)));
        line.addAll(List.of(command));
        return run(null, line);
    }

    /** Runs a command in {@code dir} (null: here) and returns its output (stdout and stderr); fails unless it exits 0. */
    public static String run(Path dir, List<String> command) {
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            if (dir != null) {
                builder.directory(dir.toFile());
            }
            Process process = builder.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor()).as(String.join(" ", command) + ":\n" + output).isZero();
            return output;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
