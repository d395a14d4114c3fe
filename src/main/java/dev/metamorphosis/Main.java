package dev.metamorphosis;

import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import org.apache.logging.log4j.LogManager;
import org.slf4j.LoggerFactory;

/**
 * Starts the bridge: settings from flags, the environment, {@code .env} and {@code application.properties} (in that
 * order), then Camel Main with the route files of the configuration folder.
 */
public final class Main {

    private static final String LOG4J_CONFIGURATION = "log4j2.configurationFile";

    private Main() {
    }

    public static void main(String[] args) {
        // on SIGTERM the JVM would end with 143 once its shutdown hooks are done; this one waits for Camel to have
        // stopped and ends with the bridge's own exit code instead (0 after a clean shutdown)
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> Runtime.getRuntime().halt(exit.join()), "exit-code"));
        int exitCode = run(args, System.getenv(), Path.of("").toAbsolutePath());
        LogManager.shutdown();
        exit.complete(exitCode);
        System.exit(exitCode);
    }

    static int run(String[] args, Map<String, String> environment, Path workDir) {
        try {
            Map<String, String> flags = parseFlags(args);
            if (flags == null) {
                System.out.print(usage());
                return 0;
            }
            Configuration config = configure(flags, environment, workDir);
            System.setProperty("metamorphosis.log.level", config.settings().get("log.level"));
            checkBindable(Integer.parseInt(config.settings().get("health.port")));

            org.apache.camel.main.Main main = new org.apache.camel.main.Main();
            main.setPropertyPlaceholderLocations("file:" + config.propertiesFile() + ";optional=true");
            config.overrides().forEach(main::addOverrideProperty);
            // the values above already rank flags over the environment, so Camel must not put it back on top
            main.addOverrideProperty("camel.component.properties.environmentVariableMode", "1");
            // routes are run again on change only by ./camel-dev on a laptop; the jar, which the container runs, never
            // reloads them
            main.addOverrideProperty("camel.main.routesReloadEnabled", "false");
            main.configure().withRoutesIncludePattern(config.routes());
            // application.properties names Settings too, which replaces this name: it is configured once either way
            main.configure().addConfiguration(Settings.class);
            main.run();
            return main.getExitCode();
        } catch (Settings.Invalid e) {
            LogManager.getLogger("config").fatal(e.getMessage());
            return 1;
        } catch (Exception e) {
            LoggerFactory.getLogger("bridge").error("Start-up failed: {}", e.getMessage(), e);
            return 1;
        }
    }

    /**
     * What a run starts with: application.properties, the route files, the values that override the file's (from
     * flags, the environment and .env) and every setting checked.
     */
    record Configuration(Path propertiesFile, String routes, Map<String, String> overrides,
                         Map<String, String> settings) {
    }

    /**
     * Reads and checks the settings: flags over the environment over {@code .env} over application.properties.
     *
     * @throws Settings.Invalid naming the first setting that is missing or wrong: the one line a user sees
     */
    static Configuration configure(Map<String, String> flags, Map<String, String> environment, Path workDir)
            throws IOException {
        Map<String, String> dotEnv = readDotEnv(workDir.resolve(".env"));
        Function<String, String> outside = name -> flags.getOrDefault(name,
                environment.getOrDefault(name, dotEnv.get(name)));

        String dirSetting = outside.apply("CONFIG_DIR");
        Path dir = dirSetting == null || dirSetting.isEmpty() ? workDir : workDir.resolve(dirSetting);
        if (!Files.isDirectory(dir)) {
            throw new Settings.Invalid("CONFIG_DIR=\"" + dirSetting + "\" is not a folder");
        }
        Path propertiesFile = dir.resolve("application.properties");
        Properties file = load(propertiesFile);
        String routes = routesPattern(dir);

        // flags, the environment and .env override application.properties, key by key
        Set<String> keys = new LinkedHashSet<>();
        Settings.ALL.forEach(s -> keys.add(s.key()));
        file.stringPropertyNames().forEach(keys::add);
        Map<String, String> overrides = new LinkedHashMap<>();
        for (String key : keys) {
            String value = outside.apply(key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
            if (value != null) {
                overrides.put(key, value);
            }
        }
        Function<String, String> lookup = key -> overrides.getOrDefault(key, file.getProperty(key));
        // the format before the checks, so that a bad setting is reported as JSON too when LOG_FORMAT=json
        if ("json".equalsIgnoreCase(String.valueOf(lookup.apply("log.format")).strip())) {
            System.setProperty("metamorphosis.log.format", "json");
            // the json appenders are a file of their own, so that the text format (the default) does not build them
            if (System.getProperty(LOG4J_CONFIGURATION) == null) {
                System.setProperty(LOG4J_CONFIGURATION, "classpath:log4j2.properties,classpath:log4j2-json.properties");
            }
        }
        return new Configuration(propertiesFile, routes, overrides, Settings.resolve(lookup));
    }

    /**
     * Fails when HEALTH_PORT cannot be bound: Camel's HTTP server only logs that failure, and the bridge would run
     * without {@code /healthz} and {@code /metrics}.
     */
    static void checkBindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true); // as the HTTP server binds it: a connection of a previous run may linger
            socket.bind(new InetSocketAddress(port));
        } catch (IOException e) {
            throw new Settings.Invalid("HEALTH_PORT=" + port + " cannot be used: " + e.getMessage());
        }
    }

    /** Route files: {@code routes/*.camel.yaml} below the folder, or {@code *.camel.yaml} in it (a ConfigMap). */
    private static String routesPattern(Path dir) throws IOException {
        StringBuilder pattern = new StringBuilder();
        for (Path folder : List.of(dir.resolve("routes"), dir)) {
            if (Files.isDirectory(folder)) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*.camel.yaml")) {
                    if (files.iterator().hasNext()) {
                        pattern.append(pattern.isEmpty() ? "" : ",").append("file:").append(folder)
                                .append("/*.camel.yaml");
                    }
                }
            }
        }
        if (pattern.isEmpty()) {
            throw new Settings.Invalid("CONFIG_DIR=\"" + dir + "\" holds no route files (routes/*.camel.yaml or "
                    + "*.camel.yaml)");
        }
        return pattern.toString();
    }

    private static Properties load(Path file) throws IOException {
        Properties properties = new Properties();
        if (Files.isRegularFile(file)) {
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                properties.load(in);
            }
        }
        return properties;
    }

    /**
     * The Go version's flags, by environment variable name: {@code -mqtt-broker host}, {@code --mqtt-broker=host};
     * a bare boolean flag ({@code -mqtt-tls}) means true. Returns {@code null} when help was asked for.
     */
    static Map<String, String> parseFlags(String[] args) {
        Map<String, Settings.Setting> byFlag = new HashMap<>();
        Settings.ALL.forEach(s -> byFlag.put(s.flag().substring(1), s));
        Map<String, String> flags = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
                throw new Settings.Invalid("unexpected argument \"" + arg + "\"; flags look like -mqtt-broker host");
            }
            String name = arg.substring(arg.startsWith("--") ? 2 : 1);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (name.equals("h") || name.equals("help")) {
                return null;
            }
            // the Go version's own spelling of -kafka-port, which its scripts pass; not listed in -help
            Settings.Setting setting = byFlag.get(name.equals("kakfa-port") ? "kafka-port" : name);
            if (setting == null) {
                throw new Settings.Invalid("unknown flag -" + name + "; -help lists the flags");
            }
            if (value == null) {
                boolean bool = "true".equals(setting.defaultValue()) || "false".equals(setting.defaultValue());
                if (i + 1 < args.length && !(bool && args[i + 1].startsWith("-"))) {
                    value = args[++i];
                } else if (bool) {
                    value = "true";
                } else {
                    throw new Settings.Invalid("flag -" + name + " needs a value (" + setting.env() + ")");
                }
            }
            flags.put(setting.env(), value);
        }
        return flags;
    }

    /** {@code KEY=value} lines as godotenv reads them: comments, {@code export}, quotes. */
    static Map<String, String> readDotEnv(Path file) throws IOException {
        Map<String, String> values = new HashMap<>();
        if (!Files.isRegularFile(file)) {
            return values;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            if (l.startsWith("export ")) {
                l = l.substring(7).strip();
            }
            int eq = l.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = l.substring(0, eq).strip();
            String value = l.substring(eq + 1).strip();
            if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                    || value.startsWith("'") && value.endsWith("'"))) {
                boolean doubleQuoted = value.charAt(0) == '"';
                value = value.substring(1, value.length() - 1);
                if (doubleQuoted) {
                    value = value.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
                }
            } else {
                int comment = value.indexOf(" #");
                if (comment >= 0) {
                    value = value.substring(0, comment).strip();
                }
            }
            values.put(key, value);
        }
        return values;
    }

    static String usage() {
        StringBuilder out = new StringBuilder("Usage: java -jar metamorphosis.jar [flags]\n"
                + "Each flag is also an environment variable, a .env line and an application.properties key.\n\n");
        for (Settings.Setting s : Settings.ALL) {
            out.append(String.format("  %-26s %-24s %s (default: %s)%n", s.flag(), s.env(), s.help(),
                    s.required() ? "required" : s.defaultValue().isEmpty() ? "empty" : s.defaultValue()));
        }
        return out.toString();
    }
}
