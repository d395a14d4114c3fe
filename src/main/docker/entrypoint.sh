#!/bin/sh
# Starts the bridge: the container's entrypoint, and how the broker tests start the built jar, so both run the same.
# exec: the JVM replaces the shell, so SIGTERM (docker stop, Kubernetes) reaches it and the bridge shuts down cleanly.
# The heap is sized from the container's memory limit; JAVA_OPTS adds options or overrides these.
set -eu
jar=${METAMORPHOSIS_JAR:-$(dirname "$0")/../metamorphosis.jar}
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError ${JAVA_OPTS:-} \
    -jar "$jar" "$@"
