package dev.metamorphosis;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

import dev.metamorphosis.it.Certs;
import dev.metamorphosis.it.Certs.Identity;
import dev.metamorphosis.it.Certs.KeyForm;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PEM certificates and keys in every form the Go version's users have, and one clear line for each bad file. */
class TlsTest {

    private static Certs certs;
    private static Path dir;

    @BeforeAll
    static void certificates() throws IOException {
        Files.createDirectories(Path.of("target"));
        certs = Certs.create("tls-test");
        dir = certs.dir();
    }

    private static Tls.Pem pem(String setting, Path file) {
        return new Tls.Pem(setting, file.toString());
    }

    private static PrivateKey read(Identity id, Path keyFile) {
        return Tls.privateKey(pem("MQTT_CLIENT_KEY", keyFile), pem("MQTT_CLIENT_CERT", id.cert()), id.certificate());
    }

    private static BigInteger secret(PrivateKey key) {
        if (key instanceof EdECPrivateKey ed) {
            return new BigInteger(1, ed.getBytes().orElseThrow());
        }
        return key instanceof RSAPrivateKey rsa ? rsa.getPrivateExponent() : ((ECPrivateKey) key).getS();
    }

    @ParameterizedTest(name = "{0} key as {1}")
    @CsvSource({"RSA, PKCS8, PRIVATE KEY, RSA", "RSA, TRADITIONAL, RSA PRIVATE KEY, RSA",
        "EC, PKCS8, PRIVATE KEY, EC", "EC, TRADITIONAL, EC PRIVATE KEY, EC", "Ed25519, PKCS8, PRIVATE KEY, EdDSA"})
    void should_read_the_key_in_each_pem_form(String type, KeyForm form, String pemType, String algorithm)
            throws IOException {
        Identity id = certs.issue("client-" + type + "-" + form, type, form);
        assertThat(Files.readString(id.key())).startsWith("-----BEGIN " + pemType + "-----");
        PrivateKey key = read(id, id.key());
        assertThat(key.getAlgorithm()).isEqualTo(algorithm);
        assertThat(secret(key)).isEqualTo(secret(id.keys().getPrivate()));
        assertThat(Tls.context(pem("ROOT_CA", certs.ca()), pem("MQTT_CLIENT_CERT", id.cert()),
                pem("MQTT_CLIENT_KEY", id.key()))).isNotNull();
    }

    @Test
    void should_read_an_ec_key_as_openssl_ecparam_writes_it_with_its_parameters_first() throws IOException {
        Identity id = certs.issue("client-ecparam", "EC", KeyForm.TRADITIONAL);
        Path key = dir.resolve("ecparam.key");
        // the named curve prime256v1, as `openssl ecparam -name prime256v1 -genkey` puts it before the key
        Files.writeString(key, "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                + Files.readString(id.key()));
        assertThat(secret(read(id, key))).isEqualTo(secret(id.keys().getPrivate()));
    }

    @Test
    void should_take_the_curve_from_the_certificate_when_an_ec_key_does_not_name_it() throws IOException {
        Identity id = certs.issue("client-bare-ec", "EC", KeyForm.PKCS8);
        Path bare = dir.resolve("bare-ec.key");
        try (var out = Files.newBufferedWriter(bare); var pem = new JcaPEMWriter(out)) {
            pem.writeObject(id.keys().getPrivate()); // SEC1 without curve or public key, as BouncyCastle writes it
        }
        assertThat(Files.readString(bare)).startsWith("-----BEGIN EC PRIVATE KEY-----");
        assertThat(secret(read(id, bare))).isEqualTo(secret(id.keys().getPrivate()));
    }

    @Test
    void should_read_a_key_and_certificate_chain_from_one_file() throws IOException {
        Identity id = certs.issue("client-combined", "RSA", KeyForm.PKCS8);
        Path both = dir.resolve("combined.pem");
        Files.writeString(both, "Bag Attributes: as openssl pkcs12 writes them\n" + Files.readString(id.cert())
                + Files.readString(certs.ca()) + Files.readString(id.key()));
        assertThat(Tls.certificates(pem("MQTT_CLIENT_CERT", both))).containsExactly(id.certificate(),
                Tls.certificates(pem("ROOT_CA", certs.ca())).get(0));
        assertThat(secret(read(id, both))).isEqualTo(secret(id.keys().getPrivate()));
    }

    @Test
    void should_refuse_a_key_that_is_not_the_certificates() {
        Identity id = certs.issue("client-a", "RSA", KeyForm.PKCS8);
        Identity other = certs.issue("client-b", "RSA", KeyForm.TRADITIONAL);
        Identity ec = certs.issue("client-c", "EC", KeyForm.TRADITIONAL);
        for (Path wrong : new Path[] {other.key(), ec.key()}) {
            assertThatThrownBy(() -> read(id, wrong)).isInstanceOf(Settings.Invalid.class)
                    .hasMessage("MQTT_CLIENT_KEY=\"" + wrong + "\" is not valid: it is not the key of the certificate "
                            + "in MQTT_CLIENT_CERT=\"" + id.cert() + "\"");
        }
    }

    @Test
    void should_name_the_setting_and_file_that_is_missing_or_not_pem() throws Exception {
        Path missing = dir.resolve("no-such.pem");
        assertThatThrownBy(() -> Tls.certificates(pem("ROOT_CA", missing)))
                .hasMessage("ROOT_CA=\"" + missing + "\" is not valid: the file does not exist");
        assertThatThrownBy(() -> Tls.certificates(pem("ROOT_CA", dir)))
                .hasMessageStartingWith("ROOT_CA=\"" + dir + "\" is not valid: the file cannot be read");
        Path der = Files.write(dir.resolve("ca.der"), Tls.certificates(pem("ROOT_CA", certs.ca())).get(0).getEncoded());
        assertThatThrownBy(() -> Tls.certificates(pem("KAFKA_ROOT_CA", der)))
                .hasMessageStartingWith("KAFKA_ROOT_CA=\"" + der + "\" is not valid: the file holds no PEM block");
        Identity id = certs.issue("client-d", "EC", KeyForm.PKCS8);
        assertThatThrownBy(() -> Tls.certificates(pem("KAFKA_CLIENT_CERT", id.key())))
                .hasMessageStartingWith("KAFKA_CLIENT_CERT=\"" + id.key() + "\" is not valid: the file holds no PEM "
                        + "certificate");
        assertThatThrownBy(() -> read(id, id.cert()))
                .hasMessageStartingWith("MQTT_CLIENT_KEY=\"" + id.cert() + "\" is not valid: the file holds no PEM "
                        + "private key");
    }

    @Test
    void should_refuse_pem_that_does_not_parse_without_showing_it() throws IOException {
        Identity id = certs.issue("client-e", "RSA", KeyForm.TRADITIONAL);
        List<String> lines = Files.readAllLines(id.key());
        // the first half of the key, then its END line
        Path broken = Files.write(dir.resolve("broken.key"), Stream.concat(
                lines.subList(0, lines.size() / 2).stream(), Stream.of(lines.get(lines.size() - 1))).toList());
        assertThatThrownBy(() -> read(id, broken)).isInstanceOf(Settings.Invalid.class)
                .hasMessageStartingWith("MQTT_CLIENT_KEY=\"" + broken + "\" is not valid: the RSA PRIVATE KEY does "
                        + "not parse")
                .satisfies(e -> assertThat(lines.subList(1, lines.size() - 1))
                        .noneMatch(line -> e.getMessage().contains(line)));

        String cert = Files.readString(id.cert());
        Path brokenCert = Files.writeString(dir.resolve("broken.crt"),
                cert.replace(cert.substring(40, 80), Base64.getEncoder().encodeToString(new byte[30])));
        assertThatThrownBy(() -> Tls.certificates(pem("MQTT_CLIENT_CERT", brokenCert)))
                .hasMessage("MQTT_CLIENT_CERT=\"" + brokenCert + "\" is not valid: certificate 1 in the file does "
                        + "not parse");
    }

    @Test
    void should_refuse_an_encrypted_key_saying_so() throws IOException {
        Identity id = certs.issue("client-f", "RSA", KeyForm.PKCS8);
        Path legacy = Files.writeString(dir.resolve("legacy-encrypted.key"), "-----BEGIN RSA PRIVATE KEY-----\n"
                + "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n"
                + "-----END RSA PRIVATE KEY-----\n");
        Path pkcs8 = Files.writeString(dir.resolve("encrypted.key"),
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        for (Path encrypted : new Path[] {legacy, pkcs8}) {
            assertThatThrownBy(() -> read(id, encrypted)).hasMessageContaining("is not valid: the key is encrypted");
        }
    }

    @Test
    void should_want_a_client_certificate_and_its_key_together() {
        Identity id = certs.issue("client-g", "EC", KeyForm.PKCS8);
        assertThatThrownBy(() -> Tls.context(new Tls.Pem("ROOT_CA", ""), pem("MQTT_CLIENT_CERT", id.cert()),
                new Tls.Pem("MQTT_CLIENT_KEY", "")))
                .hasMessageStartingWith("MQTT_CLIENT_CERT is set but MQTT_CLIENT_KEY is not");
        assertThatThrownBy(() -> Tls.context(new Tls.Pem("KAFKA_ROOT_CA", ""), new Tls.Pem("KAFKA_CLIENT_CERT", ""),
                pem("KAFKA_CLIENT_KEY", id.key())))
                .hasMessageStartingWith("KAFKA_CLIENT_KEY is set but KAFKA_CLIENT_CERT is not");
    }

    @Test
    void should_trust_the_jvm_trust_store_when_no_ca_file_is_given() {
        assertThat(Tls.context(new Tls.Pem("ROOT_CA", ""), new Tls.Pem("MQTT_CLIENT_CERT", ""),
                new Tls.Pem("MQTT_CLIENT_KEY", ""))).isNotNull();
    }
}
