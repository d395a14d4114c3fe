package dev.metamorphosis.it;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Prometheus text-format (0.0.4) page, parsed strictly: every line is a {@code # HELP}, a {@code # TYPE} or a
 * sample {@code name{labels} value}, or the parse fails naming the line.
 */
public final class Scrape {

    private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
    private static final Pattern SAMPLE = Pattern.compile(
            "(" + NAME + ")(\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\",?)*})? "
            + "([-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|Inf))( -?[0-9]+)?");

    /** Metric family name to its type, as declared by {@code # TYPE}. */
    public final Map<String, String> types = new LinkedHashMap<>();
    /** Sample (name with its labels, as written) to its value. */
    public final Map<String, Double> samples = new LinkedHashMap<>();
    private final Map<String, Double> byName = new HashMap<>();

    public Scrape(String text) {
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            Matcher type = TYPE.matcher(line);
            if (type.matches()) {
                if (types.put(type.group(1), type.group(2)) != null) {
                    throw new IllegalArgumentException("metric declared twice: " + line);
                }
                continue;
            }
            if (HELP.matcher(line).matches()) {
                continue;
            }
            Matcher sample = SAMPLE.matcher(line);
            if (!sample.matches()) {
                throw new IllegalArgumentException("not a Prometheus text line: " + line);
            }
            double value = Double.parseDouble(sample.group(3).replace("Inf", "Infinity"));
            samples.put(sample.group(1) + (sample.group(2) == null ? "" : sample.group(2)), value);
            byName.merge(sample.group(1), value, Double::sum);
        }
    }

    /** The sum of every sample of this exact name (all its label sets), or null when there is none. */
    public Double value(String name) {
        return byName.get(name);
    }

    /** Every sample name, the {@code _bucket}, {@code _count}, {@code _sum} lines of histograms included. */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }
}
