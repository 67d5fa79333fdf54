package dev.berth.registry.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;

/**
 * Certificates made with openssl for tests: a CA and a server certificate it signs (for a TLS registry),
 * or a self-signed key pair (for signing tokens the registry trusts).
 */
public final class TestCerts {
    /** A key and its certificate, as PEM files. */
    public record KeyPair(Path key, Path certificate) {
        public PrivateKey privateKey() {
            try {
                String pem = Files.readString(key, StandardCharsets.US_ASCII);
                String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
                return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
            } catch (Exception e) {
                throw new IllegalStateException("cannot read " + key + ": " + e.getMessage(), e);
            }
        }

        public X509Certificate x509() {
            try (var in = Files.newInputStream(certificate)) {
                return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            } catch (Exception e) {
                throw new IllegalStateException("cannot read " + certificate + ": " + e.getMessage(), e);
            }
        }
    }

    private TestCerts() {}

    /** A self-signed RSA key pair with the given common name. */
    public static KeyPair selfSigned(Path dir, String name) {
        Path openssl = Tools.require("openssl", "openssl");
        Path key = dir.resolve(name + ".key");
        Path cert = dir.resolve(name + ".crt");
        Tools.run(List.of(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", cert.toString(), "-days", "2", "-subj", "/CN=" + name), dir, 60).orThrow("openssl req");
        return new KeyPair(key, cert);
    }

    /** A CA. */
    public static KeyPair authority(Path dir, String name) {
        Path openssl = Tools.require("openssl", "openssl");
        Path key = dir.resolve(name + ".key");
        Path cert = dir.resolve(name + ".crt");
        Tools.run(List.of(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", cert.toString(), "-days", "2", "-subj", "/CN=" + name,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"),
                dir, 60).orThrow("openssl req");
        return new KeyPair(key, cert);
    }

    /** A server certificate signed by {@code ca} for the given DNS names and IP addresses. */
    public static KeyPair server(Path dir, KeyPair ca, String name, List<String> dnsNames, List<String> ips) {
        Path openssl = Tools.require("openssl", "openssl");
        Path key = dir.resolve(name + ".key");
        Path csr = dir.resolve(name + ".csr");
        Path cert = dir.resolve(name + ".crt");
        Path ext = dir.resolve(name + ".ext");
        StringBuilder san = new StringBuilder("subjectAltName=");
        List<String> parts = new java.util.ArrayList<>();
        dnsNames.forEach(d -> parts.add("DNS:" + d));
        ips.forEach(i -> parts.add("IP:" + i));
        san.append(String.join(",", parts));
        try {
            Files.writeString(ext, san + "\nextendedKeyUsage=serverAuth\n");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Tools.run(List.of(openssl.toString(), "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", csr.toString(), "-subj", "/CN=" + name), dir, 60).orThrow("openssl req");
        Tools.run(List.of(openssl.toString(), "x509", "-req", "-in", csr.toString(), "-CA", ca.certificate().toString(),
                "-CAkey", ca.key().toString(), "-CAcreateserial", "-out", cert.toString(), "-days", "2",
                "-extfile", ext.toString()), dir, 60).orThrow("openssl x509");
        return new KeyPair(key, cert);
    }
}
