#!/bin/sh
# Starts the bridge: the container's entrypoint, target/bin/metamorphosis after ./mvnw package, and how the broker tests
# start the built jar, so all three run the same JVM settings (docs/performance.md, Memory and start-up).
# exec: the JVM replaces the shell, so SIGTERM (docker stop, Kubernetes) reaches it and the bridge shuts down cleanly.
# The heap grows with what the bridge holds, up to 75 % of the memory (the container's limit); the serial collector
# keeps it small (G1 sizes it for pause times and took 500-700 MB); the class archive beside the jar, when there is
# one, halves the CPU of start-up; 2 malloc arenas instead of 8 a core, and what malloc holds free (the JIT compiler's
# scratch memory) given back every 5 s. JAVA_OPTS comes last, so it overrides these.
set -eu
jar=${METAMORPHOSIS_JAR:-$(dirname "$0")/../metamorphosis.jar}
archive=${jar%.jar}.jsa
cds=
if [ -r "$archive" ]; then
    # an archive of other jars (rebuilt since) is ignored without a warning: the bridge then starts as without one
    cds="-XX:SharedArchiveFile=$archive -Xlog:cds=off -Xlog:cds+dynamic=off"
fi
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# shellcheck disable=SC2086 # JAVA_OPTS and cds are lists of options
exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" -XX:+UseSerialGC -Xms16m -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError \
    -XX:TrimNativeHeapInterval=5000 $cds ${JAVA_OPTS:-} -jar "$jar" "$@"
