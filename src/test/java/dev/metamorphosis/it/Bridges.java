package dev.metamorphosis.it;

import java.util.LinkedHashMap;

/**
 * Bridge processes by name (a delivery mode, an overflow policy), for a scenario that runs several side by side: in a
 * try-with-resources header, every one still in it is ended on the way out, however the test ends.
 */
public final class Bridges extends LinkedHashMap<String, BridgeProcess> implements AutoCloseable {

    /** Puts a restarted bridge in place of one that has exited (or been killed), ending the old one for good. */
    public void restart(String name, BridgeProcess next) {
        BridgeProcess old = put(name, next);
        if (old != null) {
            old.close();
        }
    }

    @Override
    public void close() {
        values().forEach(BridgeProcess::close);
    }
}
