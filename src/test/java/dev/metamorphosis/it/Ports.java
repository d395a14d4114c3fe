package dev.metamorphosis.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports, from below the kernel's range of ephemeral ports. A port the kernel hands out (a server socket on
 * port 0) comes from that range, so the outgoing connection of any process on the host can take it between this
 * check and the server that binds it: a bridge once found its HEALTH_PORT taken ("Address already in use"). Below the
 * range only a server picks a port, and this JVM never hands out the same one twice.
 */
public final class Ports {
    private static final Set<Integer> GIVEN = new HashSet<>();
    private static final int FIRST = 10_000;
    private static final int LAST = ephemeralStart() - 1;

    private Ports() {
    }

    public static synchronized int free() {
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(FIRST, LAST + 1);
            if (!GIVEN.contains(port) && bindable(port)) {
                GIVEN.add(port);
                return port;
            }
        }
        throw new IllegalStateException("no free port between " + FIRST + " and " + LAST);
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first ephemeral port (Linux: /proc/sys/net/ipv4/ip_local_port_range), else IANA's 49152. */
    private static int ephemeralStart() {
        try {
            // read as a line, through a buffer: Files.readString, which sizes its read by the file's size (0 here),
            // got "3" in the broker tests' JVM, so ports up to 49151 were given, in the ephemeral range
            int start = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                    .get(0).strip().split("\\s+")[0]);
            return start > FIRST + 1000 ? start : 49152;
        } catch (IOException | RuntimeException e) {
            return 49152;
        }
    }
}
