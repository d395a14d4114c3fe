# Metamorphosis as a container: docker build -t metamorphosis .
# Stage 1 builds the jar with the Maven wrapper (tests need brokers and run in CI, not here); stage 2 runs it on a JRE.

FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY .mvn/ .mvn/
COPY mvnw pom.xml ./
# the dependencies in a layer of their own, fetched again only when pom.xml changes
RUN ./mvnw -B -ntp -q dependency:go-offline
COPY src/ src/
# no class archive here (maven.antrun.skip): it must be made where the jar runs, in the stage below
RUN ./mvnw -B -ntp -q -DskipTests -Dmaven.antrun.skip package

FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 metamorphosis \
    && useradd --system --uid 10001 --gid metamorphosis --home-dir /app --no-create-home metamorphosis
WORKDIR /app
# the disk spool of DELIVERY=durable: SPOOL_DIR (default spool) resolves to /app/spool. A volume, so that what it holds
# outlives the container; owned by the runtime user, so that a new volume (anonymous, or named and empty, which Docker
# fills from the image) is writable by it. Created before VOLUME: a build step after VOLUME does not change the folder.
RUN mkdir spool && chown 10001:10001 spool
VOLUME /app/spool
# layers from the one that changes least to the one that changes most: dependencies, the jar, routes and settings
COPY --from=build /src/target/lib/ lib/
COPY --from=build /src/target/metamorphosis.jar metamorphosis.jar
COPY --chmod=755 src/main/docker/entrypoint.sh bin/metamorphosis
COPY routes/ routes/
COPY application.properties ./
# the class archive the entrypoint starts with (half the CPU of start-up), from a training run on these very files
RUN --mount=type=bind,source=src/main/docker/cds-archive.sh,target=/tmp/cds-archive.sh \
    sh /tmp/cds-archive.sh bin/metamorphosis /app
USER 10001:10001
EXPOSE 8080
# exec form: the script execs the JVM, which so receives SIGTERM and drains before it exits
ENTRYPOINT ["/app/bin/metamorphosis"]
