package dev.metamorphosis.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Deleting a folder and all it holds: the one place the broker tests and the benchmark do it. */
public final class Folders {

    private Folders() {
    }

    /** Deletes the folder and all it holds, when it exists; throws on the first file it cannot delete. */
    public static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
