package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The launcher ./mvnw package puts in target/bin, as the README runs it: its JVM settings and its class archive. */
class LauncherIT {

    /** Runs {@code target/bin/metamorphosis -help} (the jar beside it, not METAMORPHOSIS_JAR) with these JAVA_OPTS. */
    private static BridgeProcess help(String javaOpts) throws IOException {
        Path launcher = BridgeProcess.jar().resolveSibling("bin").resolve("metamorphosis");
        assertThat(launcher).isExecutable();
        BridgeProcess run = BridgeProcess.run(Files.createTempDirectory("launcher"),
                Map.of("METAMORPHOSIS_JAR", "", "JAVA_OPTS", javaOpts), List.of(launcher.toString(), "-help"));
        assertThat(run.exitCode(Duration.ofSeconds(60))).as(run.stderr()).isZero();
        assertThat(run.stdout()).contains("Usage: java -jar metamorphosis.jar");
        return run;
    }

    @Test
    void should_load_the_bridges_classes_from_the_archive_the_build_wrote_beside_the_jar() throws IOException {
        // -Xshare:on: the JVM refuses to start when it cannot use the archive (missing, or made from other jars)
        String classes = help("-Xshare:on -Xlog:class+load=info").stdout();
        assertThat(classes).contains("dev.metamorphosis.Main source: shared objects file (top)",
                "dev.metamorphosis.Settings source: shared objects file (top)");
    }

    @Test
    void should_use_the_serial_collector_and_let_java_opts_override_the_launchers_settings() throws IOException {
        // -Xms32m after the launcher's -Xms16m: the later one wins, so JAVA_OPTS must come last
        String flags = help("-Xms32m -Xmx100m -XX:+PrintFlagsFinal").stdout();
        assertThat(flags).containsPattern("bool UseSerialGC += true")
                .containsPattern("size_t InitialHeapSize += 33554432 ")
                .containsPattern("size_t MaxHeapSize += 104857600 ");
    }
}
