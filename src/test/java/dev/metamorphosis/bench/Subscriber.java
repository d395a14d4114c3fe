package dev.metamorphosis.bench;

/** A plain subscriber for the raw limit: what it received, and the failure of its connection, if any. */
interface Subscriber extends AutoCloseable {

    Tally tally();

    Throwable failure();

    @Override
    void close();
}
