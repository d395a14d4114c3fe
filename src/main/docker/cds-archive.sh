#!/bin/sh
# Writes metamorphosis.jsa beside the jar: the class data sharing archive the launcher (entrypoint.sh) starts the bridge
# with, which halves the CPU of start-up. A training run of the launcher: Camel loads the routes of CONFIG_DIR without
# starting them (no broker needed), runs for a second, and the JVM writes the classes it loaded as it exits.
# Usage: cds-archive.sh LAUNCHER CONFIG_DIR (./mvnw package, the Dockerfile). Never fails: without the archive the
# bridge starts as before, only slower.
set -u
launcher=$1
jar=${METAMORPHOSIS_JAR:-$(dirname "$launcher")/../metamorphosis.jar}
archive=${jar%.jar}.jsa
rm -f "$archive"
work=$(mktemp -d)
# settings the bridge requires, on nothing that answers; a port of its own for the HTTP server; the json log format,
# whose appenders are built beside the text ones, so that the archive holds the classes of both
if (cd "$work" && env -i PATH="$PATH" ${JAVA_HOME:+JAVA_HOME="$JAVA_HOME"} METAMORPHOSIS_JAR="$jar" \
        MQTT_BROKER=localhost MQTT_TLS=false MQTT_TOPIC=training KAFKA_BROKER=localhost KAFKA_TOPIC=training \
        CONFIG_DIR="$2" HEALTH_PORT=$((20000 + $$ % 20000)) LOG_FORMAT=json \
        CAMEL_MAIN_AUTOSTARTUP=false CAMEL_MAIN_DURATIONMAXSECONDS=1 \
        JAVA_OPTS="-XX:ArchiveClassesAtExit=$archive -Xlog:cds=off -Xlog:cds+dynamic=off" \
        sh "$launcher" >"$work/training.log" 2>&1) && [ -s "$archive" ]; then
    rm -rf "$work"
else
    echo "cds-archive.sh: no class archive written (the bridge starts without one); see $work/training.log" >&2
    rm -f "$archive"
fi
exit 0
