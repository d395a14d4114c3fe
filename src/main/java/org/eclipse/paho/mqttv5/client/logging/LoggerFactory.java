package org.eclipse.paho.mqttv5.client.logging;

import java.lang.reflect.Constructor;
import java.util.MissingResourceException;
import java.util.ResourceBundle;
import java.util.logging.LogManager;

/**
 * Makes Paho's loggers: the bridge's own class of the name Paho 1.2.5 uses, loaded in place of Paho's because
 * {@code metamorphosis.jar} comes before the Paho jar on the class path. It has Paho's API ({@link #getLogger},
 * {@link #setLogger}, {@link #getLoggingProperty}, {@link #MQTT_CLIENT_MSG_CAT}) and looks up the message catalog and
 * the logger's class once, not for every logger.
 * <p>
 * Paho makes a logger for every token ({@code Token}'s constructor), so for every acknowledgement the bridge sends: its
 * own factory then looks the catalog up with {@code ResourceBundle.getBundle}, and the logger's class with
 * {@code Class.forName}, and makes the logger by reflection. That was 4-5 % of the bridge's CPU samples at 200 B
 * (docs/performance.md, "Paho's loggers").
 * <p>
 * What upstream Paho should change (org.eclipse.paho.mqttv5.client 1.2.5, and the MQTT 3 client's class of the same
 * name): keep the catalog and the logger's class once found, keyed by the catalog's name and the class's name; or let
 * {@code Token} share its client's logger, as the client's other classes share one logger a class.
 * <p>
 * The package's two other classes, {@code JSR47Logger} (Paho's default logger, through {@code java.util.logging}) and
 * {@code SimpleLogFormatter}, are not the bridge's, and nothing loads them: this factory's default logger is the
 * bridge's {@code dev.metamorphosis.PahoLog}. {@link Logger} is the bridge's own, so that every class of the package
 * that is loaded comes from one jar: the Paho jar is signed, and a JVM that honours its signature refuses a package
 * split between a signed and an unsigned jar ({@code CountingInputStream} says more).
 */
public class LoggerFactory {

    /** The catalog of Paho's messages. */
    public static final String MQTT_CLIENT_MSG_CAT = "org.eclipse.paho.mqttv5.client.internal.nls.logcat";

    private static final String DEFAULT_LOGGER = "dev.metamorphosis.PahoLog";

    private static volatile String loggerClassName = DEFAULT_LOGGER;
    private static volatile Catalog catalog;
    private static volatile Maker maker;

    /** The catalog last found, with its name: Paho 1.2.5 names only one. */
    private record Catalog(String name, ResourceBundle bundle) {
    }

    /** The logger class's constructor, found once for its name. */
    private record Maker(String className, Constructor<? extends Logger> constructor) {
    }

    /**
     * A new logger of the class {@link #setLogger} names (the bridge's by default), initialised with the catalog.
     *
     * @throws MissingResourceException when there is no such catalog, or the logger cannot be made
     */
    public static Logger getLogger(String messageCatalogName, String loggerID) {
        Catalog c = catalog;
        if (c == null || !c.name().equals(messageCatalogName)) {
            c = new Catalog(messageCatalogName, ResourceBundle.getBundle(messageCatalogName));
            catalog = c;
        }
        Logger logger;
        try {
            logger = maker().constructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            throw new MissingResourceException("Error locating the logging class " + loggerClassName + ": " + e,
                    LoggerFactory.class.getName(), loggerID);
        }
        logger.initialise(c.bundle(), loggerID, null);
        return logger;
    }

    private static Maker maker() throws ReflectiveOperationException {
        String name = loggerClassName;
        Maker m = maker;
        if (m == null || !m.className().equals(name)) {
            m = new Maker(name, Class.forName(name).asSubclass(Logger.class).getDeclaredConstructor());
            maker = m;
        }
        return m;
    }

    /** A property of {@code java.util.logging}'s configuration, or null. */
    public static String getLoggingProperty(String name) {
        try {
            return LogManager.getLogManager().getProperty(name);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The class of the loggers made from now on; null for the bridge's. */
    public static void setLogger(String loggerClassName) {
        LoggerFactory.loggerClassName = loggerClassName == null ? DEFAULT_LOGGER : loggerClassName;
    }
}
