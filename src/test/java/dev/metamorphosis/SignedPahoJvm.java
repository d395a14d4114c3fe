package dev.metamorphosis;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs a class's {@code main} in a JVM of its own that honours the Paho jar's signature, as Java 17 before 17.0.5 did:
 * there, a package whose classes come from both the signed Paho jar and the bridge's classes is refused with a
 * {@code SecurityException}. For the tests of the bridge's own classes of Paho's packages.
 */
public final class SignedPahoJvm {

    private SignedPahoJvm() {
    }

    /**
     * What {@code main} printed, on a class path of the places the given classes were loaded from, in that order.
     *
     * @throws AssertionError when the JVM did not end within a minute, or ended with another exit code than 0
     */
    public static String run(Path dir, Class<?> main, Class<?>... classPath) throws Exception {
        // the Paho jar's signature has a SHA-1 timestamp, which Java 17.0.5 and later ignore by default: allow it
        Path security = Files.writeString(dir.resolve("java.security"),
                "jdk.jar.disabledAlgorithms=MD2, MD5, RSA keySize < 1024, DSA keySize < 1024\n");
        String path = Arrays.stream(classPath).map(SignedPahoJvm::location).distinct()
                .collect(Collectors.joining(File.pathSeparator));
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        Process java = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.security.properties=" + security, "-cp", path, main.getName())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!java.waitFor(60, TimeUnit.SECONDS)) {
            java.destroyForcibly();
            throw new AssertionError(main.getSimpleName() + " did not end within a minute");
        }
        if (java.exitValue() != 0) {
            throw new AssertionError(main.getSimpleName() + " ended with exit code " + java.exitValue() + ": "
                                     + Files.readString(err));
        }
        return Files.readString(out);
    }

    /** The folder or jar a class was loaded from. */
    public static String location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
