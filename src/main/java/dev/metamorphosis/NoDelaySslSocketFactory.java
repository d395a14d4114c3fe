package dev.metamorphosis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.function.BiFunction;
import java.util.List;

import javax.net.SocketFactory;
import javax.net.ssl.HandshakeCompletedListener;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * TLS sockets with {@code TCP_NODELAY} on, for {@code ssl://} MQTT URLs, for the reason {@link NoDelaySocketFactory}
 * gives. Paho takes only an {@link SSLSocketFactory} for {@code ssl://}, so this one wraps the context's.
 * <p>
 * The socket Paho asks for unconnected ({@link #createSocket()}, as Paho 1.2.5 does) is TLS layered over a plain
 * socket once it connects, and its output is a {@link SocketWriter}, as on plain connections: Paho's packets, each a
 * TLS record and a system call of its own before, go out together, and the bridge writes its QoS 1 acknowledgements
 * there past Paho's sender.
 */
public final class NoDelaySslSocketFactory extends SSLSocketFactory implements ClientSockets {

    private final SSLSocketFactory tls;
    /** The output of the socket made last, once Paho has asked for it. */
    private volatile SocketWriter writer;

    public NoDelaySslSocketFactory(SSLContext context) {
        this(context.getSocketFactory());
    }

    private NoDelaySslSocketFactory(SSLSocketFactory tls) {
        this.tls = tls;
    }

    @Override
    public SocketWriter writer() {
        return writer;
    }

    @Override
    public SocketFactory forOneClient() {
        return new NoDelaySslSocketFactory(tls);
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return tls.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return tls.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket() throws IOException {
        return new WrittenTlsSocket();
    }

    @Override
    public Socket createSocket(Socket socket, String host, int port, boolean autoClose) throws IOException {
        return noDelay(tls.createSocket(socket, host, port, autoClose));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return noDelay(tls.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return noDelay(tls.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return noDelay(tls.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return noDelay(tls.createSocket(address, port, localAddress, localPort));
    }

    private static Socket noDelay(Socket socket) throws IOException {
        socket.setTcpNoDelay(true);
        return socket;
    }

    /**
     * TLS over a plain socket with {@code TCP_NODELAY} on, made when it connects; whose output is written by a
     * thread of its own. Every call goes to the TLS socket: this object's own socket is never connected.
     */
    private final class WrittenTlsSocket extends SSLSocket {
        private final Socket plain = new Socket();
        private volatile SSLSocket tlsSocket;
        private SocketWriter out;

        WrittenTlsSocket() throws SocketException {
            plain.setTcpNoDelay(true);
        }

        private SSLSocket tls() throws SocketException {
            SSLSocket s = tlsSocket;
            if (s == null) {
                throw new SocketException("not connected");
            }
            return s;
        }

        /** For the calls that cannot throw an {@link IOException}. */
        private SSLSocket connected() {
            SSLSocket s = tlsSocket;
            if (s == null) {
                throw new IllegalStateException("TLS socket not connected");
            }
            return s;
        }

        @Override
        public void connect(SocketAddress endpoint) throws IOException {
            connect(endpoint, 0);
        }

        @Override
        public void connect(SocketAddress endpoint, int timeout) throws IOException {
            InetSocketAddress address = (InetSocketAddress) endpoint;
            plain.connect(address, timeout);
            // the host name as given, so that TLS checks the server's name (SNI, and Paho's hostname verification)
            tlsSocket = (SSLSocket) tls.createSocket(plain, address.getHostString(), address.getPort(), true);
        }

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            return tls().getInputStream();
        }

        @Override
        public synchronized OutputStream getOutputStream() throws IOException {
            if (out == null) {
                out = new SocketWriter(tls().getOutputStream(), "MQTT Out: " + plain.getRemoteSocketAddress());
                writer = out;
            }
            return out;
        }

        @Override
        public void close() throws IOException {
            SocketWriter w;
            synchronized (this) {
                w = out;
            }
            if (w != null) {
                w.drain(); // what was written before the close goes out first (a DISCONNECT)
            }
            SSLSocket s = tlsSocket;
            if (s != null) {
                s.close();
            } else {
                plain.close();
            }
        }

        @Override
        public void shutdownInput() throws IOException {
            tls().shutdownInput();
        }

        @Override
        public void shutdownOutput() throws IOException {
            tls().shutdownOutput();
        }

        @Override
        public void setSoTimeout(int timeout) throws SocketException {
            plain.setSoTimeout(timeout);
        }

        @Override
        public int getSoTimeout() throws SocketException {
            return plain.getSoTimeout();
        }

        @Override
        public void setTcpNoDelay(boolean on) throws SocketException {
            plain.setTcpNoDelay(on);
        }

        @Override
        public boolean getTcpNoDelay() throws SocketException {
            return plain.getTcpNoDelay();
        }

        @Override
        public boolean isConnected() {
            return plain.isConnected();
        }

        @Override
        public boolean isClosed() {
            SSLSocket s = tlsSocket;
            return s != null ? s.isClosed() : plain.isClosed();
        }

        @Override
        public boolean isInputShutdown() {
            return plain.isInputShutdown();
        }

        @Override
        public boolean isOutputShutdown() {
            return plain.isOutputShutdown();
        }

        @Override
        public InetAddress getInetAddress() {
            return plain.getInetAddress();
        }

        @Override
        public InetAddress getLocalAddress() {
            return plain.getLocalAddress();
        }

        @Override
        public int getPort() {
            return plain.getPort();
        }

        @Override
        public int getLocalPort() {
            return plain.getLocalPort();
        }

        @Override
        public SocketAddress getRemoteSocketAddress() {
            return plain.getRemoteSocketAddress();
        }

        @Override
        public SocketAddress getLocalSocketAddress() {
            return plain.getLocalSocketAddress();
        }

        @Override
        public String toString() {
            SSLSocket s = tlsSocket;
            return s != null ? s.toString() : plain.toString();
        }

        // the TLS socket's own methods

        @Override
        public void startHandshake() throws IOException {
            tls().startHandshake();
        }

        @Override
        public SSLSession getSession() {
            return connected().getSession();
        }

        @Override
        public SSLSession getHandshakeSession() {
            return connected().getHandshakeSession();
        }

        @Override
        public SSLParameters getSSLParameters() {
            return connected().getSSLParameters();
        }

        @Override
        public void setSSLParameters(SSLParameters parameters) {
            connected().setSSLParameters(parameters);
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return connected().getSupportedCipherSuites();
        }

        @Override
        public String[] getEnabledCipherSuites() {
            return connected().getEnabledCipherSuites();
        }

        @Override
        public void setEnabledCipherSuites(String[] suites) {
            connected().setEnabledCipherSuites(suites);
        }

        @Override
        public String[] getSupportedProtocols() {
            return connected().getSupportedProtocols();
        }

        @Override
        public String[] getEnabledProtocols() {
            return connected().getEnabledProtocols();
        }

        @Override
        public void setEnabledProtocols(String[] protocols) {
            connected().setEnabledProtocols(protocols);
        }

        @Override
        public void addHandshakeCompletedListener(HandshakeCompletedListener listener) {
            connected().addHandshakeCompletedListener(listener);
        }

        @Override
        public void removeHandshakeCompletedListener(HandshakeCompletedListener listener) {
            connected().removeHandshakeCompletedListener(listener);
        }

        @Override
        public void setUseClientMode(boolean mode) {
            connected().setUseClientMode(mode);
        }

        @Override
        public boolean getUseClientMode() {
            return connected().getUseClientMode();
        }

        @Override
        public void setNeedClientAuth(boolean need) {
            connected().setNeedClientAuth(need);
        }

        @Override
        public boolean getNeedClientAuth() {
            return connected().getNeedClientAuth();
        }

        @Override
        public void setWantClientAuth(boolean want) {
            connected().setWantClientAuth(want);
        }

        @Override
        public boolean getWantClientAuth() {
            return connected().getWantClientAuth();
        }

        @Override
        public void setEnableSessionCreation(boolean flag) {
            connected().setEnableSessionCreation(flag);
        }

        @Override
        public boolean getEnableSessionCreation() {
            return connected().getEnableSessionCreation();
        }

        @Override
        public String getApplicationProtocol() {
            return connected().getApplicationProtocol();
        }

        @Override
        public String getHandshakeApplicationProtocol() {
            return connected().getHandshakeApplicationProtocol();
        }

        @Override
        public void setHandshakeApplicationProtocolSelector(BiFunction<SSLSocket, List<String>, String> selector) {
            connected().setHandshakeApplicationProtocolSelector(selector);
        }

        @Override
        public BiFunction<SSLSocket, List<String>, String> getHandshakeApplicationProtocolSelector() {
            return connected().getHandshakeApplicationProtocolSelector();
        }
    }
}
