package org.eclipse.paho.mqttv5.client.logging;

import java.util.ResourceBundle;

/**
 * What Paho 1.2.5 logs through: the bridge's own declaration of Paho's interface, the same constants and methods,
 * because {@link LoggerFactory} of this package is the bridge's own and the package must come from one jar (see
 * there). The bridge's implementation is {@code dev.metamorphosis.PahoLog}.
 */
public interface Logger {

    /** The levels, from the most to the least severe, as Paho's compiled classes pass them. */
    int SEVERE = 1;
    int WARNING = 2;
    int INFO = 3;
    int CONFIG = 4;
    int FINE = 5;
    int FINER = 6;
    int FINEST = 7;

    /** Called once, as the logger is made: the catalog of Paho's messages, who logs, and the client's name. */
    void initialise(ResourceBundle messageCatalog, String loggerID, String resourceName);

    void setResourceName(String logContext);

    boolean isLoggable(int level);

    void severe(String sourceClass, String sourceMethod, String msg);

    void severe(String sourceClass, String sourceMethod, String msg, Object[] inserts);

    void severe(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown);

    void warning(String sourceClass, String sourceMethod, String msg);

    void warning(String sourceClass, String sourceMethod, String msg, Object[] inserts);

    void warning(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown);

    void info(String sourceClass, String sourceMethod, String msg);

    void info(String sourceClass, String sourceMethod, String msg, Object[] inserts);

    void info(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown);

    void config(String sourceClass, String sourceMethod, String msg);

    void config(String sourceClass, String sourceMethod, String msg, Object[] inserts);

    void config(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown);

    void fine(String sourceClass, String sourceMethod, String msg);

    void fine(String sourceClass, String sourceMethod, String msg, Object[] inserts);

    void fine(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown);

    void finer(String sourceClass, String sourceMethod, String msg);

    void finer(String sourceClass, String sourceMethod, String msg, Object[] inserts);

    void finer(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown);

    void finest(String sourceClass, String sourceMethod, String msg);

    void finest(String sourceClass, String sourceMethod, String msg, Object[] inserts);

    void finest(String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown);

    void log(int level, String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown);

    void trace(int level, String sourceClass, String sourceMethod, String msg, Object[] inserts, Throwable thrown);

    String formatMessage(String msg, Object[] inserts);

    void dumpTrace();
}
