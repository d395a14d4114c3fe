package dev.metamorphosis;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.metamorphosis.it.Tools;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import static org.assertj.core.api.Assertions.assertThat;

/** The Kubernetes manifests parse, carry the routes and settings of the repository, and probe the right paths. */
@SuppressWarnings("unchecked")
class DeployTest {

    static final Path KUBERNETES = Path.of("deploy/kubernetes");

    @SuppressWarnings("unchecked")
    static <T> T at(Object node, Object... path) {
        Object here = node;
        for (Object step : path) {
            if (here == null) {
                return null;
            }
            here = step instanceof Integer i ? ((List<Object>) here).get(i) : ((Map<String, Object>) here).get(step);
        }
        return (T) here;
    }

    static List<Object> load(Path file) throws IOException {
        List<Object> documents = new ArrayList<>();
        new Load(LoadSettings.builder().build()).loadAllFromString(Files.readString(file)).forEach(documents::add);
        return documents;
    }

    @Test
    void should_parse_every_manifest_and_name_only_files_that_exist() throws IOException {
        try (Stream<Path> files = Files.walk(Path.of("deploy"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
                assertThat(load(file)).as(file.toString()).isNotEmpty().doesNotContainNull();
            }
        }
        Object kustomization = load(KUBERNETES.resolve("kustomization.yaml")).get(0);
        List<String> named = new ArrayList<>(at(kustomization, "resources"));
        List<Map<String, Object>> generators = at(kustomization, "configMapGenerator");
        for (Map<String, Object> generator : generators) {
            named.addAll((List<String>) generator.getOrDefault("files", List.of()));
            named.addAll((List<String>) generator.getOrDefault("envs", List.of()));
        }
        assertThat(named).allSatisfy(f -> assertThat(KUBERNETES.resolve(f)).isRegularFile());
    }

    @Test
    void should_build_its_config_map_from_the_repository_s_own_route_files_and_properties() throws IOException {
        Object kustomization = load(KUBERNETES.resolve("kustomization.yaml")).get(0);
        Map<String, Object> config = ((List<Map<String, Object>>) at(kustomization, "configMapGenerator")).stream()
                .filter(g -> g.get("name").equals("metamorphosis-config")).findFirst().orElseThrow();
        TreeSet<Path> expected = new TreeSet<>(List.of(Path.of("application.properties"),
                Path.of("examples", "topic-map.yaml")));
        try (Stream<Path> routes = Files.list(Path.of("routes"))) {
            routes.filter(r -> r.getFileName().toString().endsWith(".camel.yaml")).forEach(expected::add);
        }
        List<String> files = at(config, "files");
        // one copy: the generator reads routes/ itself, so a route file added there must be listed in the kustomization
        assertThat(new TreeSet<>(files.stream().map(f -> KUBERNETES.resolve(f).normalize()).toList()))
                .as("the config map's files (list a new file of routes/ in deploy/kubernetes/kustomization.yaml)")
                .isEqualTo(expected);
    }

    /** What kubectl kustomize builds of deploy/kubernetes, as docs/operations.md says to build it; skips the test when kubectl is not installed. */
    static List<Object> kustomize() throws Exception {
        String built = Tools.run(null, List.of(Tools.required("kubectl", "the Kubernetes client").toString(),
                "kustomize", "--load-restrictor", "LoadRestrictionsNone", KUBERNETES.toString()));
        List<Object> documents = new ArrayList<>();
        new Load(LoadSettings.builder().build()).loadAllFromString(built).forEach(documents::add);
        return documents;
    }

    static Object only(List<Object> documents, String kind) {
        List<Object> ofKind = documents.stream().filter(d -> at(d, "kind").equals(kind)).toList();
        assertThat(ofKind).as(kind).hasSize(1);
        return ofKind.get(0);
    }

    @Test
    void should_build_with_kustomize_into_a_config_map_the_stateful_set_mounts() throws Exception {
        List<Object> documents = kustomize();
        Object config = documents.stream().filter(d -> at(d, "kind").equals("ConfigMap")
                && at(d, "metadata", "name").toString().startsWith("metamorphosis-config-")).findFirst().orElseThrow();
        Map<String, String> data = at(config, "data");
        assertThat(data.get("application.properties")).isEqualTo(Files.readString(Path.of("application.properties")));
        try (Stream<Path> routes = Files.list(Path.of("routes"))) {
            for (Path route : routes.toList()) {
                assertThat(data.get(route.getFileName().toString())).as(route.toString())
                        .isEqualTo(Files.readString(route));
            }
        }
        Object statefulSet = only(documents, "StatefulSet");
        assertThat((List<Map<String, Object>>) at(statefulSet, "spec", "template", "spec", "volumes"))
                .anySatisfy(v -> assertThat((String) at(v, "configMap", "name"))
                        .isEqualTo(at(config, "metadata", "name")));
    }

    @Test
    void should_select_the_pods_of_the_stateful_set_by_its_service_and_its_pod_disruption_budget() throws Exception {
        List<Object> documents = kustomize();
        Object statefulSet = only(documents, "StatefulSet");
        Map<String, String> pod = at(statefulSet, "spec", "template", "metadata", "labels");
        Object service = only(documents, "Service");
        assertThat((String) at(statefulSet, "spec", "serviceName")).isEqualTo(at(service, "metadata", "name"));
        // a PodDisruptionBudget with an empty selector selects every pod of the namespace, without one none
        Map<String, Map<String, String>> selectors = new TreeMap<>();
        selectors.put("Service", at(service, "spec", "selector"));
        selectors.put("PodDisruptionBudget",
                at(only(documents, "PodDisruptionBudget"), "spec", "selector", "matchLabels"));
        selectors.put("StatefulSet", at(statefulSet, "spec", "selector", "matchLabels"));
        selectors.forEach((kind, selector) -> {
            assertThat(selector).as("selector of the " + kind).isNotEmpty();
            assertThat(pod).as("labels of the pods the " + kind + " selects").containsAllEntriesOf(selector);
        });
    }

    @Test
    void should_probe_healthz_and_readyz_on_health_port_and_wait_longer_than_the_drain() throws IOException {
        Object statefulSet = load(KUBERNETES.resolve("statefulset.yaml")).get(0);
        Object pod = at(statefulSet, "spec", "template", "spec");
        Object container = at(pod, "containers", 0);
        assertThat((String) at(container, "livenessProbe", "httpGet", "path")).isEqualTo("/healthz");
        assertThat((String) at(container, "startupProbe", "httpGet", "path")).isEqualTo("/healthz");
        assertThat((String) at(container, "readinessProbe", "httpGet", "path")).isEqualTo("/readyz");
        List<Map<String, Object>> env = at(container, "env");
        assertThat(env).contains(Map.of("name", "CONFIG_DIR", "value", "/config"))
                .contains(Map.of("name", "HEALTH_PORT", "value", at(container, "ports", 0, "containerPort").toString()));
        assertThat((List<Map<String, Object>>) at(container, "volumeMounts"))
                .anySatisfy(m -> assertThat(m).containsEntry("name", "config").containsEntry("mountPath", "/config"));
        Properties properties = new Properties();
        try (var in = Files.newBufferedReader(Path.of("application.properties"))) {
            properties.load(in);
        }
        int drain = Integer.parseInt(properties.getProperty("shutdown.timeout"))
                + Integer.parseInt(properties.getProperty("camel.main.shutdownTimeout"));
        assertThat((Integer) at(pod, "terminationGracePeriodSeconds")).isGreaterThan(drain);
        assertThat(load(KUBERNETES.resolve("pod-disruption-budget.yaml")).get(0)).extracting(d -> at(d, "kind"))
                .isEqualTo("PodDisruptionBudget");
    }

    @Test
    void should_set_only_known_settings_in_the_environment_file() throws IOException {
        List<String> known = Settings.ALL.stream().map(Settings.Setting::env).toList();
        for (String line : Files.readAllLines(KUBERNETES.resolve("bridge.env"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                assertThat(line.substring(0, line.indexOf('='))).as(line).isIn(known);
            }
        }
    }

    @Test
    void should_build_an_image_that_runs_the_entrypoint_the_tests_run_as_a_user_that_is_not_root() throws IOException {
        List<String> dockerfile = Files.readAllLines(Path.of("Dockerfile"));
        assertThat(dockerfile).contains("COPY --chmod=755 src/main/docker/entrypoint.sh bin/metamorphosis",
                "ENTRYPOINT [\"/app/bin/metamorphosis\"]", "USER 10001:10001",
                "EXPOSE " + Settings.ALL.stream().filter(s -> s.env().equals("HEALTH_PORT")).findFirst().orElseThrow()
                        .defaultValue());
        assertThat(Path.of("src/main/docker/entrypoint.sh")).isExecutable().content().contains("exec ");
    }

    @Test
    void should_declare_the_folder_spool_dir_resolves_to_a_volume_owned_by_the_runtime_user() throws IOException {
        List<String> dockerfile = Files.readAllLines(Path.of("Dockerfile"));
        String spool = spoolFolder(null);
        int volume = dockerfile.indexOf("VOLUME " + spool);
        assertThat(volume).as("VOLUME " + spool + " in the Dockerfile").isPositive();
        String user = dockerfile.stream().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElseThrow()
                .substring("USER ".length());
        assertThat(user).isEqualTo("10001:10001");
        // a RUN after VOLUME would not change the folder: it is created and handed to the user before
        List<String> runtimeStage = dockerfile.subList(lastIndexOfPrefix(dockerfile, "FROM "), volume);
        assertThat(runtimeStage).anySatisfy(line -> assertThat(line).startsWith("RUN ")
                .contains("mkdir " + Path.of(workdir()).relativize(Path.of(spool)))
                .contains("chown " + user + " " + Path.of(workdir()).relativize(Path.of(spool))));
    }

    static int lastIndexOfPrefix(List<String> lines, String prefix) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        throw new AssertionError("no line starts with " + prefix);
    }

    /** The WORKDIR of the image's runtime stage: the bridge's working directory, where a relative SPOOL_DIR lies. */
    static String workdir() throws IOException {
        List<String> dockerfile = Files.readAllLines(Path.of("Dockerfile"));
        List<String> runtimeStage = dockerfile.subList(lastIndexOfPrefix(dockerfile, "FROM "), dockerfile.size());
        return runtimeStage.get(lastIndexOfPrefix(runtimeStage, "WORKDIR ")).substring("WORKDIR ".length());
    }

    /**
     * A setting as the container gets it: from its env list, else from bridge.env (its envFrom), else null. Without
     * a container, only its default applies: null.
     */
    static String setting(Object container, String name) throws IOException {
        if (container == null) {
            return null;
        }
        for (Map<String, Object> variable : (List<Map<String, Object>>) at(container, "env")) {
            if (name.equals(variable.get("name"))) {
                return (String) variable.get("value");
            }
        }
        for (String line : Files.readAllLines(KUBERNETES.resolve("bridge.env"))) {
            if (line.startsWith(name + "=")) {
                return line.substring(name.length() + 1);
            }
        }
        return null;
    }

    /**
     * The folder SPOOL_DIR names in the container: the value the container's environment gives it, or its default,
     * resolved against the image's working directory.
     */
    static String spoolFolder(Object container) throws IOException {
        String spoolDir = setting(container, "SPOOL_DIR");
        if (spoolDir == null) {
            spoolDir = Settings.ALL.stream().filter(s -> s.env().equals("SPOOL_DIR"))
                    .map(Settings.Setting::defaultValue).findFirst().orElse("spool"); // the durable spool's default
        }
        return Path.of(workdir()).resolve(spoolDir).toString();
    }

    /** SPOOL_MAX_BYTES's default with DELIVERY=durable: 4 GiB on disk. */
    static final long DURABLE_SPOOL_MAX_BYTES = 4L << 30;

    /** A Kubernetes quantity of bytes: 5Gi, 500M, 1073741824. */
    static long bytes(String quantity) {
        Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?").matcher(quantity);
        assertThat(m.matches()).as("a quantity of bytes: " + quantity).isTrue();
        long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
            case "Ki" -> 1L << 10;
            case "Mi" -> 1L << 20;
            case "Gi" -> 1L << 30;
            case "Ti" -> 1L << 40;
            case "k" -> 1_000L;
            case "M" -> 1_000_000L;
            case "G" -> 1_000_000_000L;
            default -> 1_000_000_000_000L;
        };
        return Long.parseLong(m.group(1)) * unit;
    }

    @Test
    void should_keep_the_spool_of_each_pod_on_a_volume_claim_mounted_where_spool_dir_resolves() throws IOException {
        Object statefulSet = load(KUBERNETES.resolve("statefulset.yaml")).get(0);
        assertThat((String) at(statefulSet, "kind")).isEqualTo("StatefulSet");
        assertThat((Integer) at(statefulSet, "spec", "replicas")).isEqualTo(1);
        assertThat((String) at(statefulSet, "spec", "serviceName"))
                .isEqualTo(at(load(KUBERNETES.resolve("service.yaml")).get(0), "metadata", "name"));
        Object pod = at(statefulSet, "spec", "template", "spec");
        Object container = at(pod, "containers", 0);

        List<Object> claims = at(statefulSet, "spec", "volumeClaimTemplates");
        assertThat(claims).hasSize(1);
        Object claim = claims.get(0);
        String name = at(claim, "metadata", "name");
        assertThat((List<String>) at(claim, "spec", "accessModes")).containsExactly("ReadWriteOnce");
        String maxBytes = setting(container, "SPOOL_MAX_BYTES");
        long bound = maxBytes == null ? DURABLE_SPOOL_MAX_BYTES : Long.parseLong(maxBytes);
        // room above SPOOL_MAX_BYTES for the file system's own use (ext4 keeps 5 % for root, which the bridge is not)
        assertThat(bytes(at(claim, "spec", "resources", "requests", "storage"))).as("the claim's size")
                .isGreaterThanOrEqualTo(bound + bound / 10);
        assertThat((List<Map<String, Object>>) at(container, "volumeMounts")).as("mounts of the container")
                .anySatisfy(m -> assertThat(m).containsEntry("name", name)
                        .containsEntry("mountPath", spoolFolder(container)).doesNotContainKey("readOnly"));
        assertThat((List<Map<String, Object>>) at(pod, "volumes")).as("a pod volume would hide the claim")
                .noneSatisfy(v -> assertThat(v).containsEntry("name", name));

        // the image's user, on a read-only root file system, and the volume made writable for its group
        assertThat((Map<String, Object>) at(pod, "securityContext")).containsEntry("runAsNonRoot", true)
                .containsEntry("runAsUser", 10001).containsEntry("runAsGroup", 10001).containsEntry("fsGroup", 10001);
        assertThat((Boolean) at(container, "securityContext", "readOnlyRootFilesystem")).isTrue();

        // the stable pod name is the MQTT client id, so a pod that comes back takes over its persistent session
        String clientId = setting(container, "MQTT_CLIENT_ID");
        assertThat(clientId == null || clientId.isEmpty() || clientId.contains("%h")).as("MQTT_CLIENT_ID " + clientId)
                .isTrue();
    }
}
