package dev.metamorphosis;

import java.security.KeyStore;
import java.util.Map;
import java.util.Set;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

import org.apache.kafka.common.security.auth.SslEngineFactory;

/**
 * The Kafka clients' TLS ({@code ssl.engine.factory.class}) from the PEM files of {@code KAFKA_ROOT_CA},
 * {@code KAFKA_CLIENT_CERT} and {@code KAFKA_CLIENT_KEY}, read as {@link Tls} reads the MQTT side's: Kafka's own PEM
 * support takes only PKCS#8 keys, in one file with the certificate. The file names come in the client configuration
 * under the settings' own keys ({@code kafka.root.ca}, ...), which application.properties adds.
 */
public final class KafkaSslEngineFactory implements SslEngineFactory {

    private SSLContext context;

    @Override
    public void configure(Map<String, ?> configs) {
        context = Tls.kafka(configs);
    }

    @Override
    public SSLEngine createClientSslEngine(String peerHost, int peerPort, String endpointIdentification) {
        SSLEngine engine = context.createSSLEngine(peerHost, peerPort);
        engine.setUseClientMode(true);
        SSLParameters parameters = engine.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm(endpointIdentification);
        engine.setSSLParameters(parameters);
        return engine;
    }

    @Override
    public SSLEngine createServerSslEngine(String peerHost, int peerPort) {
        throw new UnsupportedOperationException("the bridge is a Kafka client only");
    }

    @Override
    public boolean shouldBeRebuilt(Map<String, Object> nextConfigs) {
        return false;
    }

    @Override
    public Set<String> reconfigurableConfigs() {
        return Set.of();
    }

    @Override
    public KeyStore keystore() {
        return null;
    }

    @Override
    public KeyStore truststore() {
        return null;
    }

    @Override
    public void close() {
        // nothing held but the context
    }
}
