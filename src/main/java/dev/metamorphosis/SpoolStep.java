package dev.metamorphosis;

import org.apache.camel.Exchange;
import org.apache.camel.Predicate;
import org.apache.camel.Processor;

/**
 * A step of route {@code mqtt-ingest} that bean {@code spool} takes for each message: the {@link Spool} method of the
 * same name. A processor rather than a {@code bean} step, which finds its method by name on every call: about 4 µs of
 * CPU a message for each such step, as much as the rest of the route.
 */
public final class SpoolStep implements Processor, Predicate {

    /** The steps, each named after the method of {@link Spool} it runs. */
    public enum Step { tooLarge, setAsideTooLarge, append, admit, acknowledge, holdAcknowledgement, enqueue }

    private Spool spool;
    private Step step;

    @Override
    public void process(Exchange exchange) throws InterruptedException {
        switch (step) {
            case setAsideTooLarge -> spool.setAsideTooLarge(exchange);
            case append -> spool.append(exchange);
            case admit -> spool.admit(exchange);
            case acknowledge -> spool.acknowledge(exchange);
            case holdAcknowledgement -> spool.holdAcknowledgement(exchange);
            case enqueue -> spool.enqueue(exchange);
            default -> throw new IllegalStateException("step " + step + " is a condition (filter), not a processor");
        }
    }

    @Override
    public boolean matches(Exchange exchange) {
        if (step != Step.tooLarge) {
            throw new IllegalStateException("step " + step + " is a processor, not a condition");
        }
        return spool.tooLarge(exchange);
    }

    public void setSpool(Spool spool) {
        this.spool = spool;
    }

    public void setStep(Step step) {
        this.step = step;
    }
}
