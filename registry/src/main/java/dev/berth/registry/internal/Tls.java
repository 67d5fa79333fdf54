package dev.berth.registry.internal;

import dev.berth.registry.RegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS set-ups per registry: the system's trust store plus the CA files docker reads for that registry
 * ({@code certs.d/HOST[:PORT]/*.crt}), or no verification at all for a registry configured insecure.
 */
public final class Tls {
    private Tls() {}

    /** The {@code *.crt} files for {@code hostPort} in each certs.d directory, in order. */
    public static List<Path> caFiles(List<Path> certDirectories, String hostPort) {
        List<Path> out = new ArrayList<>();
        for (Path dir : certDirectories) {
            Path d = dir.resolve(hostPort.replace("[", "").replace("]", ""));
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(d, "*.crt")) {
                List<Path> found = new ArrayList<>();
                files.forEach(found::add);
                found.sort(null);
                out.addAll(found);
            } catch (IOException e) {
                throw new RegistryException("cannot read " + d + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * A context trusting the system's CAs and {@code caFiles}; with none, the JVM's default context. Host
     * names are verified either way.
     */
    public static SSLContext context(List<Path> caFiles) {
        try {
            if (caFiles.isEmpty()) {
                return SSLContext.getDefault();
            }
            X509ExtendedTrustManager system = trustManager(null);
            KeyStore extra = KeyStore.getInstance(KeyStore.getDefaultType());
            extra.load(null, null);
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            int n = 0;
            for (Path f : caFiles) {
                try (InputStream in = Files.newInputStream(f)) {
                    for (Certificate c : cf.generateCertificates(in)) {
                        extra.setCertificateEntry("ca-" + n++, c);
                    }
                } catch (IOException | CertificateException e) {
                    throw new RegistryException("cannot read CA certificate " + f + ": " + e.getMessage(), e);
                }
            }
            X509ExtendedTrustManager own = trustManager(extra);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new EitherTrustManager(system, own)}, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new RegistryException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** A context that accepts any certificate for any name: only for registries configured insecure. */
    public static SSLContext trustingEverything() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new TrustAll()}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new RegistryException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /**
     * A context for a client that only speaks plain HTTP. Java's HTTP client insists on one, and a real one
     * costs a cold JVM the start of the whole TLS machinery (a tenth of a second) for nothing; this one
     * refuses any TLS connection.
     */
    public static SSLContext unused() {
        return new SSLContext(new NoTls(), new java.security.Provider("berth-no-tls", "1", "plain HTTP only") { },
                "TLS") { };
    }

    private static final class NoTls extends javax.net.ssl.SSLContextSpi {
        private static UnsupportedOperationException no() {
            return new UnsupportedOperationException("this HTTP client speaks plain HTTP only");
        }

        @Override
        protected void engineInit(javax.net.ssl.KeyManager[] km, TrustManager[] tm, java.security.SecureRandom sr) {
        }

        @Override
        protected javax.net.ssl.SSLSocketFactory engineGetSocketFactory() {
            throw no();
        }

        @Override
        protected javax.net.ssl.SSLServerSocketFactory engineGetServerSocketFactory() {
            throw no();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            throw no();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            throw no();
        }

        @Override
        protected javax.net.ssl.SSLSessionContext engineGetServerSessionContext() {
            return null;
        }

        @Override
        protected javax.net.ssl.SSLSessionContext engineGetClientSessionContext() {
            return null;
        }

        @Override
        protected javax.net.ssl.SSLParameters engineGetDefaultSSLParameters() {
            return new javax.net.ssl.SSLParameters();
        }

        @Override
        protected javax.net.ssl.SSLParameters engineGetSupportedSSLParameters() {
            return new javax.net.ssl.SSLParameters();
        }
    }

    private static X509ExtendedTrustManager trustManager(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        for (TrustManager tm : f.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X509 trust manager");
    }

    /** Trusts a chain when either manager does; both verify the host name against the engine's peer. */
    private static final class EitherTrustManager extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager first;
        private final X509ExtendedTrustManager second;

        EitherTrustManager(X509ExtendedTrustManager first, X509ExtendedTrustManager second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            try {
                first.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                second.checkServerTrusted(chain, authType, engine);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            try {
                first.checkServerTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                second.checkServerTrusted(chain, authType, socket);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                first.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                second.checkServerTrusted(chain, authType);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("berth does not accept client connections");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("berth does not accept client connections");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("berth does not accept client connections");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            List<X509Certificate> all = new ArrayList<>(List.of(first.getAcceptedIssuers()));
            all.addAll(List.of(second.getAcceptedIssuers()));
            return all.toArray(new X509Certificate[0]);
        }
    }

    /**
     * Accepts everything. Being an extended trust manager, the TLS engine leaves host name checks to it,
     * so the name is not checked either.
     */
    private static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
