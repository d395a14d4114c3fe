package dev.metamorphosis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.serialization.node.LocationJsonNodeFactoryFactory;
import com.networknt.schema.utils.JsonNodes;
import org.apache.camel.dsl.yaml.YamlRoutesBuilderLoader;

/**
 * Checks route files against the Camel YAML DSL schema that ships in camel-yaml-dsl, and names the file, line and
 * reason of each problem: an unknown step or option, a missing one, a value of the wrong shape.
 * <p>
 * Two things the schema is stricter about than Camel: Camel reads every scalar as text and resolves {@code {{key}}}
 * placeholders before it converts, so here a scalar of any type is accepted where the schema asks for a string,
 * number or boolean ({@code completionSize: "{{kafka.batch.size}}"}, {@code constant: true}). Enumerations and
 * everything structural stay as strict as the schema.
 */
final class RouteSchema {

    private static final Set<String> SCALARS = Set.of("string", "number", "integer", "boolean");
    /** Keywords that only say that some alternative below failed; reported only when nothing more precise is. */
    private static final Set<String> SUMMARIES = Set.of("oneOf", "anyOf", "allOf", "not", "required");

    private final ObjectMapper yaml = new YAMLMapper();
    private final Schema schema;

    RouteSchema() {
        try (InputStream in = YamlRoutesBuilderLoader.class.getResourceAsStream("/schema/camelYamlDsl.json")) {
            JsonNode dsl = new ObjectMapper().readTree(in);
            acceptAnyScalar(dsl);
            schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4).getSchema(dsl);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The problems of one route file as {@code file:line: path: reason}, in line order; empty when it is valid. */
    List<String> check(Path file) {
        JsonNode routes;
        try {
            routes = JsonNodes.readTree(yaml, Files.readString(file), LocationJsonNodeFactoryFactory.getInstance());
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            return List.of(file + ":" + (at == null ? 1 : at.getLineNr()) + ": not YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Error> errors = schema.validate(routes);
        List<Error> precise = errors.stream().filter(e -> !SUMMARIES.contains(e.getKeyword())).toList();
        Set<String> problems = new LinkedHashSet<>();
        errors.stream()
                .filter(e -> !SUMMARIES.contains(e.getKeyword()) || precise.stream().noneMatch(
                        p -> p.getInstanceLocation().startsWith(e.getInstanceLocation())))
                .sorted((a, b) -> Integer.compare(line(routes, a), line(routes, b)))
                .forEach(e -> problems.add(file + ":" + line(routes, e) + ": " + e.getInstanceLocation() + ": "
                        + e.getMessage()));
        return new ArrayList<>(problems);
    }

    /** The line of the offending node; for an unknown property, the line of that property. */
    private static int line(JsonNode routes, Error error) {
        JsonNode node = JsonNodes.get(routes, error.getInstanceLocation());
        if (node != null && error.getProperty() != null && node.get(error.getProperty()) != null) {
            node = node.get(error.getProperty());
        }
        JsonLocation at = node == null ? null : JsonNodes.tokenStreamLocationOf(node);
        return at == null ? 1 : at.getLineNr();
    }

    private static void acceptAnyScalar(JsonNode node) {
        if (node instanceof ObjectNode object) {
            JsonNode type = object.get("type");
            if (type != null && type.isTextual() && SCALARS.contains(type.asText())) {
                ArrayNode any = object.putArray("type");
                SCALARS.forEach(any::add);
            }
        }
        node.forEach(RouteSchema::acceptAnyScalar);
    }
}
