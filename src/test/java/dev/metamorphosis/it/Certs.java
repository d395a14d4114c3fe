package dev.metamorphosis.it;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * A test PKI, made with BouncyCastle in a folder under {@code target/}: a CA, certificates it issues (for servers and
 * clients, valid or expired, for any host names), their keys as PEM in the form asked for, and PKCS#12 stores for the
 * brokers. A second {@code Certs} is a CA nobody trusts.
 */
public final class Certs {

    /** Password of the PKCS#12 stores made for the test brokers. */
    public static final String STORE_PASSWORD = "broker-store-password";
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /**
     * How a private key is written: PKCS#8 ({@code PRIVATE KEY}), or the traditional OpenSSL form of its type, PKCS#1
     * ({@code RSA PRIVATE KEY}) or SEC1 with the curve and public key ({@code EC PRIVATE KEY}).
     */
    public enum KeyForm { PKCS8, TRADITIONAL }

    /** A certificate and its key: the PEM files and the objects. */
    public record Identity(Path cert, Path key, X509Certificate certificate, KeyPair keys) {
    }

    private final Path dir;
    private final KeyPair caKeys;
    private final X509Certificate ca;
    private final Path caFile;

    private Certs(Path dir) throws GeneralSecurityException, IOException {
        this.dir = dir;
        caKeys = keyPair("RSA");
        X500Name name = new X500Name("CN=Metamorphosis test CA " + dir.getFileName());
        Instant now = Instant.now();
        var builder = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(2))), name, caKeys.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        ca = sign(builder);
        caFile = dir.resolve("ca.pem");
        writePem(caFile, ca);
    }

    /** A new CA in a new folder {@code target/certs-<name>-*}. */
    public static Certs create(String name) {
        try {
            return new Certs(Files.createTempDirectory(Path.of("target").toAbsolutePath(), "certs-" + name + "-"));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("test CA not made", e);
        }
    }

    /** The CA certificate, PEM. */
    public Path ca() {
        return caFile;
    }

    public Path dir() {
        return dir;
    }

    /** A certificate valid from an hour ago for a day, for these host names or IP addresses. */
    public Identity issue(String name, String keyType, KeyForm form, String... hosts) {
        Instant now = Instant.now();
        return issue(name, keyType, form, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)), hosts);
    }

    /** A certificate that expired yesterday. */
    public Identity expired(String name, String keyType, String... hosts) {
        Instant now = Instant.now();
        return issue(name, keyType, KeyForm.PKCS8, now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1)), hosts);
    }

    private Identity issue(String name, String keyType, KeyForm form, Instant from, Instant until, String... hosts) {
        try {
            KeyPair keys = keyPair(keyType);
            var builder = new JcaX509v3CertificateBuilder(ca, serial(), Date.from(from), Date.from(until),
                    new X500Name("CN=" + name), keys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            if (hosts.length > 0) {
                List<GeneralName> names = new ArrayList<>();
                for (String host : hosts) {
                    names.add(new GeneralName(host.matches("[0-9.]+|.*:.*") ? GeneralName.iPAddress
                            : GeneralName.dNSName, host));
                }
                builder.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(names.toArray(new GeneralName[0])));
            }
            X509Certificate certificate = sign(builder);
            Path cert = dir.resolve(name + ".crt");
            writePem(cert, certificate);
            Path key = dir.resolve(name + "-" + form.name().toLowerCase() + ".key");
            try (Writer out = Files.newBufferedWriter(key); JcaPEMWriter pem = new JcaPEMWriter(out)) {
                if (form == KeyForm.PKCS8) {
                    pem.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
                } else if (keyType.equals("EC")) {
                    pem.writeObject(new PemObject("EC PRIVATE KEY", sec1(keys)));
                } else {
                    pem.writeObject(keys.getPrivate()); // BouncyCastle writes an RSA key as PKCS#1
                }
            }
            return new Identity(cert, key, certificate, keys);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("certificate " + name + " not made", e);
        }
    }

    /** An EC key as OpenSSL writes it: SEC1 with the named curve and the public key. */
    private static byte[] sec1(KeyPair keys) throws IOException {
        var curve = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded()).getPrivateKeyAlgorithm().getParameters();
        var point = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()).getPublicKeyData();
        return new org.bouncycastle.asn1.sec.ECPrivateKey(256, ((ECPrivateKey) keys.getPrivate()).getS(), point, curve)
                .getEncoded();
    }

    /** A PKCS#12 store with the identity's key and certificate (then the CA's), for a broker. */
    public Path keyStore(Identity identity) {
        return store(identity.cert().getFileName() + ".p12", store -> store.setKeyEntry("server",
                identity.keys().getPrivate(), STORE_PASSWORD.toCharArray(),
                new X509Certificate[] {identity.certificate(), ca}));
    }

    /** A TLS context with the identity's key and certificate that trusts this CA: a test's client or server. */
    public SSLContext context(Identity identity) {
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("identity", identity.keys().getPrivate(), STORE_PASSWORD.toCharArray(),
                    new X509Certificate[] {identity.certificate(), ca});
            KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyManagers.init(keys, STORE_PASSWORD.toCharArray());
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            trusted.setCertificateEntry("ca", ca);
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("TLS context of " + identity.cert().getFileName() + " not made", e);
        }
    }

    /** A PKCS#12 store trusting this CA, for a broker checking client certificates or a JVM trust store. */
    public Path trustStore() {
        return store("truststore.p12", store -> store.setCertificateEntry("ca", ca));
    }

    private interface Fill {
        void into(KeyStore store) throws GeneralSecurityException;
    }

    private Path store(String name, Fill fill) {
        Path file = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(file)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            fill.into(store);
            store.store(out, STORE_PASSWORD.toCharArray());
            return file;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("key store " + name + " not made", e);
        }
    }

    private X509Certificate sign(JcaX509v3CertificateBuilder builder) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(caKeys.getPrivate())));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair keyPair(String type) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(type);
        if (type.equals("EC")) {
            generator.initialize(new ECGenParameterSpec("secp256r1"));
        } else if (type.equals("RSA")) {
            generator.initialize(2048);
        }
        return generator.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static void writePem(Path file, Object object) {
        try (Writer out = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
