package dev.metamorphosis;

import java.text.MessageFormat;
import java.util.ResourceBundle;

import org.eclipse.paho.mqttv5.client.logging.Logger;
import org.slf4j.LoggerFactory;

/**
 * Paho's log through the bridge's: what Paho logs as SEVERE or WARNING becomes one WARN line of logger {@code paho},
 * naming the client and the cause, without a stack trace; Paho's trace (INFO and below) is dropped unformatted.
 * Paho's default writes through {@code java.util.logging} to stderr in a format of its own, with stack traces (a
 * failed TLS connect can end in a NullPointerException inside Paho's sender, printed whole), and makes a
 * {@code java.util.logging} logger for every token it creates. Set by {@link MqttComponent} before any MQTT client is.
 */
public final class PahoLog implements Logger {

    private static final org.slf4j.Logger LOG = LoggerFactory.getLogger("paho");

    private ResourceBundle catalog;
    private String resource;

    /** Paho's logging goes through this class from now on. */
    static void install() {
        org.eclipse.paho.mqttv5.client.logging.LoggerFactory.setLogger(PahoLog.class.getName());
    }

    @Override
    public void initialise(ResourceBundle messageCatalog, String loggerID, String resourceName) {
        catalog = messageCatalog;
        resource = resourceName;
    }

    @Override
    public void setResourceName(String logContext) {
        resource = logContext;
    }

    @Override
    public boolean isLoggable(int level) {
        return level <= WARNING && LOG.isWarnEnabled();
    }

    @Override
    public void log(int level, String sourceClass, String sourceMethod, String msg, Object[] inserts,
                    Throwable thrown) {
        if (!isLoggable(level)) {
            return;
        }
        String text = formatMessage(msg, inserts);
        String cause = thrown == null ? "" : ": " + Bridge.causeOf(thrown);
        LOG.warn("{}{}{}", resource == null ? "" : resource + ": ", text, cause);
    }

    @Override
    public void trace(int level, String sourceClass, String sourceMethod, String msg, Object[] inserts,
                      Throwable thrown) {
    }

    @Override
    public String formatMessage(String msg, Object[] inserts) {
        String pattern = msg == null ? "" : msg;
        if (catalog != null && catalog.containsKey(pattern)) {
            pattern = catalog.getString(pattern);
        }
        return inserts == null || inserts.length == 0 ? pattern : MessageFormat.format(pattern, inserts);
    }

    @Override
    public void dumpTrace() {
    }

    @Override
    public void severe(String sourceClass, String sourceMethod, String msg) {
        log(SEVERE, sourceClass, sourceMethod, msg, null, null);
    }

    @Override
    public void severe(String sourceClass, String sourceMethod, String msg, Object[] inserts) {
        log(SEVERE, sourceClass, sourceMethod, msg, inserts, null);
    }

    @Override
    public void severe(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown) {
        log(SEVERE, sourceClass, sourceMethod, msg, inserts, thrown);
    }

    @Override
    public void warning(String sourceClass, String sourceMethod, String msg) {
        log(WARNING, sourceClass, sourceMethod, msg, null, null);
    }

    @Override
    public void warning(String sourceClass, String sourceMethod, String msg, Object[] inserts) {
        log(WARNING, sourceClass, sourceMethod, msg, inserts, null);
    }

    @Override
    public void warning(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown) {
        log(WARNING, sourceClass, sourceMethod, msg, inserts, thrown);
    }

    // Paho's trace: never written

    @Override
    public void info(String sourceClass, String sourceMethod, String msg) {
    }

    @Override
    public void info(String sourceClass, String sourceMethod, String msg, Object[] inserts) {
    }

    @Override
    public void info(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown) {
    }

    @Override
    public void config(String sourceClass, String sourceMethod, String msg) {
    }

    @Override
    public void config(String sourceClass, String sourceMethod, String msg, Object[] inserts) {
    }

    @Override
    public void config(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown) {
    }

    @Override
    public void fine(String sourceClass, String sourceMethod, String msg) {
    }

    @Override
    public void fine(String sourceClass, String sourceMethod, String msg, Object[] inserts) {
    }

    @Override
    public void fine(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown) {
    }

    @Override
    public void finer(String sourceClass, String sourceMethod, String msg) {
    }

    @Override
    public void finer(String sourceClass, String sourceMethod, String msg, Object[] inserts) {
    }

    @Override
    public void finer(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown) {
    }

    @Override
    public void finest(String sourceClass, String sourceMethod, String msg) {
    }

    @Override
    public void finest(String sourceClass, String sourceMethod, String msg, Object[] inserts) {
    }

    @Override
    public void finest(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown) {
    }
}
