package dev.metamorphosis;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS from PEM files, as the Go version reads them: a CA file to trust (the JVM's trust store when there is none) and a
 * client certificate with its key, the key in PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE
 * KEY}) or SEC1 ({@code BEGIN EC PRIVATE KEY}) form. PKCS#1 and SEC1 keys are rewrapped as PKCS#8 (a few DER bytes
 * around them), so the JDK reads them all. Every problem with a file is a {@link Settings.Invalid} naming its setting
 * and the file; no message carries key material.
 */
public final class Tls {

    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    /** DER of the algorithm identifiers PKCS#8 puts before a PKCS#1 RSA key and an SEC1 EC key. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
        (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    private static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
    private static final List<String> KEY_TYPES = List.of("RSA", "EC", "EdDSA");

    private Tls() {
    }

    /** A PEM file and the setting that names it; an empty path is an unset setting. */
    public record Pem(String setting, String path) {
        boolean isSet() {
            return path != null && !path.isEmpty();
        }

        Settings.Invalid invalid(String reason) {
            return new Settings.Invalid(setting + "=\"" + path + "\" is not valid: " + reason);
        }
    }

    /** The MQTT side: {@code ROOT_CA}, {@code MQTT_CLIENT_CERT}, {@code MQTT_CLIENT_KEY}. */
    static SSLContext mqtt(Map<String, String> settings) {
        return context(new Pem("ROOT_CA", settings.get("root.ca")),
                new Pem("MQTT_CLIENT_CERT", settings.get("mqtt.client.cert")),
                new Pem("MQTT_CLIENT_KEY", settings.get("mqtt.client.key")));
    }

    /** The Kafka side: {@code KAFKA_ROOT_CA}, {@code KAFKA_CLIENT_CERT}, {@code KAFKA_CLIENT_KEY}. */
    static SSLContext kafka(Map<String, ?> settings) {
        return context(new Pem("KAFKA_ROOT_CA", (String) settings.get("kafka.root.ca")),
                new Pem("KAFKA_CLIENT_CERT", (String) settings.get("kafka.client.cert")),
                new Pem("KAFKA_CLIENT_KEY", (String) settings.get("kafka.client.key")));
    }

    /**
     * A client TLS context that trusts the certificates of {@code ca} (the JVM's trust store when unset) and, when
     * {@code cert} is set, presents it with {@code key}.
     *
     * @throws Settings.Invalid naming the setting and file that is missing, unreadable or wrong
     */
    public static SSLContext context(Pem ca, Pem cert, Pem key) {
        if (cert.isSet() != key.isSet()) {
            Pem set = cert.isSet() ? cert : key;
            Pem unset = cert.isSet() ? key : cert;
            throw new Settings.Invalid(set.setting() + " is set but " + unset.setting() + " is not: a client "
                    + "certificate needs its key, and a key its certificate");
        }
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(ca.isSet() ? trustStore(certificates(ca)) : null);
            KeyManager[] keys = null;
            if (cert.isSet()) {
                List<X509Certificate> chain = certificates(cert);
                PrivateKey privateKey = privateKey(key, cert, chain.get(0));
                // the store never leaves memory, so its password guards nothing
                char[] password = UUID.randomUUID().toString().toCharArray();
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setKeyEntry("client", privateKey, password, chain.toArray(new X509Certificate[0]));
                KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                factory.init(store, password);
                keys = factory.getKeyManagers();
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("TLS could not be set up: " + e.getMessage(), e);
        }
    }

    private static KeyStore trustStore(List<X509Certificate> certificates)
            throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < certificates.size(); i++) {
            store.setCertificateEntry("ca-" + i, certificates.get(i));
        }
        return store;
    }

    /** The certificates of the file, in order (a client certificate first, then its intermediates). */
    static List<X509Certificate> certificates(Pem file) {
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (Block block : blocks(file)) {
                if (block.type().equals("CERTIFICATE")) {
                    certificates.add((X509Certificate) factory.generateCertificate(
                            new ByteArrayInputStream(block.der(file))));
                }
            }
        } catch (CertificateException e) {
            throw file.invalid("certificate " + (certificates.size() + 1) + " in the file does not parse");
        }
        if (certificates.isEmpty()) {
            throw file.invalid("the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return certificates;
    }

    /** The one private key of the file, checked to be the key of {@code certificate}. */
    static PrivateKey privateKey(Pem file, Pem certificateFile, X509Certificate certificate) {
        List<Block> keys = blocks(file).stream().filter(b -> b.type().endsWith("PRIVATE KEY")).toList();
        if (keys.size() != 1) {
            throw file.invalid(keys.isEmpty()
                    ? "the file holds no PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or "
                            + "EC PRIVATE KEY)"
                    : "the file holds " + keys.size() + " private keys, expected one");
        }
        Block block = keys.get(0);
        if (block.type().equals("ENCRYPTED PRIVATE KEY") || block.body().contains("Proc-Type:")) {
            throw file.invalid("the key is encrypted; give it unencrypted "
                    + "(openssl pkey -in encrypted.pem -out key.pem)");
        }
        byte[] pkcs8;
        try {
            pkcs8 = switch (block.type()) {
                case "PRIVATE KEY" -> block.der(file);
                case "RSA PRIVATE KEY" -> der(0x30, der(0x02, new byte[1]), RSA_ALGORITHM, der(0x04, block.der(file)));
                case "EC PRIVATE KEY" -> der(0x30, der(0x02, new byte[1]),
                        der(0x30, EC_PUBLIC_KEY, curveOf(block.der(file), certificate)), der(0x04, block.der(file)));
                default -> throw file.invalid("a " + block.type() + " is not supported; expected PRIVATE KEY, "
                        + "RSA PRIVATE KEY or EC PRIVATE KEY");
            };
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            throw file.invalid("the " + block.type() + " does not parse");
        }
        PrivateKey key = null;
        for (String type : KEY_TYPES) {
            try {
                key = KeyFactory.getInstance(type).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
                break;
            } catch (GeneralSecurityException | RuntimeException e) {
                // not a key of this type; the next one
            }
        }
        if (key == null) {
            throw file.invalid("the " + block.type() + " does not parse as an RSA, EC or Ed25519 key");
        }
        if (!signs(key, certificate)) {
            throw file.invalid("it is not the key of the certificate in " + certificateFile.setting() + "=\""
                    + certificateFile.path() + "\"");
        }
        return key;
    }

    /** Whether a signature made with the key verifies with the certificate's public key. */
    private static boolean signs(PrivateKey key, X509Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> "EdDSA";
        };
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(challenge);
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(certificate.getPublicKey());
            verify.update(challenge);
            return verify.verify(sign.sign());
        } catch (GeneralSecurityException e) {
            return false; // a key of another type than the certificate's
        }
    }

    /**
     * The named curve of an SEC1 {@code ECPrivateKey}, as DER: its {@code [0]} parameters (OpenSSL always writes
     * them), or else the parameters of the certificate's public key (a key written from Java may lack them).
     */
    private static byte[] curveOf(byte[] sec1, X509Certificate certificate) {
        int[] outer = element(sec1, 0);
        int[] version = element(sec1, outer[1]);
        int at = element(sec1, version[2])[2]; // after the private key octets
        while (at < outer[2]) {
            int[] field = element(sec1, at);
            if ((sec1[at] & 0xff) == 0xa0) {
                return Arrays.copyOfRange(sec1, field[1], field[2]);
            }
            at = field[2];
        }
        byte[] spki = certificate.getPublicKey().getEncoded();
        int[] algorithm = element(spki, element(spki, 0)[1]);
        int[] parameters = element(spki, element(spki, algorithm[1])[2]); // after the algorithm's OID
        return Arrays.copyOfRange(spki, parameters[0], parameters[2]);
    }

    /** The DER element at {@code at}: {start of element, start of value, end of value}. */
    private static int[] element(byte[] der, int at) {
        int length = der[at + 1] & 0xff;
        int start = at + 2;
        if (length > 0x7f) {
            int bytes = length & 0x7f;
            if (bytes > 3) {
                throw new IllegalArgumentException("DER length too long");
            }
            length = 0;
            for (int i = 0; i < bytes; i++) {
                length = length << 8 | der[start++] & 0xff;
            }
        }
        if (start + length > der.length) {
            throw new IllegalArgumentException("DER element past the end");
        }
        return new int[] {at, start, start + length};
    }

    /** A DER element of the tag with the concatenated parts as value. */
    private static byte[] der(int tag, byte[]... parts) {
        ByteArrayOutputStream value = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            value.writeBytes(part);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int length = value.size();
        if (length < 0x80) {
            out.write(length);
        } else {
            int bytes = length < 0x100 ? 1 : length < 0x10000 ? 2 : 3;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(length >>> 8 * i);
            }
        }
        out.writeBytes(value.toByteArray());
        return out.toByteArray();
    }

    /** One PEM block: its type ({@code CERTIFICATE}, {@code RSA PRIVATE KEY}, ...) and its text between the lines. */
    private record Block(String type, String body) {
        byte[] der(Pem file) {
            try {
                return Base64.getMimeDecoder().decode(body.strip());
            } catch (IllegalArgumentException e) {
                throw file.invalid("the " + type + " block is not base64");
            }
        }
    }

    private static List<Block> blocks(Pem file) {
        String text;
        try {
            text = new String(Files.readAllBytes(Path.of(file.path())), StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw file.invalid("the file does not exist");
        } catch (AccessDeniedException e) {
            throw file.invalid("the file cannot be read (permission denied)");
        } catch (IOException | InvalidPathException e) {
            throw file.invalid("the file cannot be read: " + e.getMessage());
        }
        List<Block> blocks = new ArrayList<>();
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            blocks.add(new Block(m.group(1), m.group(2)));
        }
        if (blocks.isEmpty()) {
            throw file.invalid("the file holds no PEM block (-----BEGIN ...-----); a DER file must be converted "
                    + "to PEM first");
        }
        return blocks;
    }
}
