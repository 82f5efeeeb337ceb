package io.jbouncer.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scripted stand-in for PostgreSQL, in the style of OkHttp's MockWebServer: each connection the
 * proxy opens logs in with trust and is handed to the test, which reads what the proxy forwarded
 * and writes exactly the bytes it wants, in one write when it wants them in one read. For exact
 * timing and failure cases; behaviour is tested against real PostgreSQL elsewhere.
 */
final class ScriptedBackend implements AutoCloseable {
  static final int CANCEL_REQUEST_CODE = 80877102;

  private final ServerSocket listener;
  private final BlockingQueue<Session> sessions = new LinkedBlockingQueue<>();
  private final BlockingQueue<Cancel> cancels = new LinkedBlockingQueue<>();
  private final BlockingQueue<byte[]> loginRefusals = new LinkedBlockingQueue<>();
  private final Thread acceptor;
  private int nextPid = 1000;

  ScriptedBackend() throws IOException {
    this(0);
  }

  /** A backend on {@code port} (0: any free port). */
  ScriptedBackend(int port) throws IOException {
    listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
    acceptor = new Thread(this::acceptLoop, "scripted-backend");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /**
   * The next login gets {@code reply} (an ErrorResponse, say) instead of AuthenticationOk, and its
   * connection is closed; queued replies are used one login each.
   */
  void refuseNextLogin(byte[] reply) {
    loginRefusals.add(reply);
  }

  /** The next CancelRequest the proxy sent; fails after 10 s. */
  Cancel nextCancel() throws InterruptedException {
    Cancel c = cancels.poll(10, TimeUnit.SECONDS);
    if (c == null) {
      throw new AssertionError("the proxy sent no CancelRequest within 10 s");
    }
    return c;
  }

  /** True when no CancelRequest arrives within {@code millis}. */
  boolean noCancelWithin(long millis) throws InterruptedException {
    return cancels.poll(millis, TimeUnit.MILLISECONDS) == null;
  }

  /** A CancelRequest as the backend received it; the proxy waits until it is closed. */
  record Cancel(int pid, int secretKey, Socket socket) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  int port() {
    return listener.getLocalPort();
  }

  /** The next server connection the proxy opened, after its login; fails after 10 s. */
  Session nextSession() throws InterruptedException {
    Session s = sessions.poll(10, TimeUnit.SECONDS);
    if (s == null) {
      throw new AssertionError("the proxy opened no new server connection within 10 s");
    }
    return s;
  }

  /** True when no further server connection arrives within {@code millis}. */
  boolean noNewSessionWithin(long millis) throws InterruptedException {
    return sessions.poll(millis, TimeUnit.MILLISECONDS) == null;
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      Socket socket;
      try {
        socket = listener.accept();
      } catch (IOException e) {
        return;
      }
      try {
        Session session = new Session(socket, nextPid++);
        if (session.cancel != null) {
          cancels.add(session.cancel);
          continue;
        }
        byte[] refusal = loginRefusals.poll();
        if (refusal != null) {
          session.send(refusal);
          socket.close();
          continue;
        }
        session.login();
        sessions.add(session);
      } catch (IOException e) {
        // that connection failed (the proxy gave up on it); keep accepting
      }
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }

  /** One server connection, from the backend's side. */
  static final class Session implements AutoCloseable {
    final Map<String, String> startup = new LinkedHashMap<>();
    final int pid;
    @org.jspecify.annotations.Nullable Cancel cancel; // the first packet was a CancelRequest
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    /** Reads the first packet: a StartupMessage into {@link #startup}, or a CancelRequest. */
    Session(Socket socket, int pid) throws IOException {
      this.socket = socket;
      this.pid = pid;
      socket.setSoTimeout(10_000);
      in = new DataInputStream(socket.getInputStream());
      out = socket.getOutputStream();
      byte[] packet = new byte[in.readInt() - 4];
      in.readFully(packet);
      java.nio.ByteBuffer fields = java.nio.ByteBuffer.wrap(packet);
      if (fields.getInt() == CANCEL_REQUEST_CODE) {
        cancel = new Cancel(fields.getInt(), fields.getInt(), socket);
        return;
      }
      String[] parts = new String(packet, 4, packet.length - 4, StandardCharsets.UTF_8).split("\0");
      for (int i = 0; i + 1 < parts.length; i += 2) {
        startup.put(parts[i], parts[i + 1]);
      }
    }

    private void login() throws IOException {
      send(
          frame('R', 0, new byte[0]),
          parameterStatus("server_version", "17.0"),
          parameterStatus("client_encoding", "UTF8"),
          parameterStatus("DateStyle", "ISO, MDY"),
          parameterStatus("application_name", ""),
          frame('K', pid, new byte[] {0, 0, 0, 42}),
          readyForQuery('I'));
    }

    /** Reads the next frame the proxy forwarded. */
    RawClient.Message read() throws IOException {
      char type = (char) in.readUnsignedByte();
      byte[] body = new byte[in.readInt() - 4];
      in.readFully(body);
      return new RawClient.Message(type, body);
    }

    /** Reads exactly {@code n} bytes as they come, frame boundaries or not. */
    byte[] readBytes(int n) throws IOException {
      byte[] bytes = new byte[n];
      in.readFully(bytes);
      return bytes;
    }

    /** Reads the next frame and returns its text if it is a simple Query. */
    String readQuery() throws IOException {
      RawClient.Message m = read();
      if (m.type() != 'Q') {
        throw new AssertionError("expected a Query, got '" + m.type() + "'");
      }
      return new String(m.body(), 0, m.body().length - 1, StandardCharsets.UTF_8);
    }

    /** True when nothing arrives from the proxy within {@code millis}. */
    boolean silentFor(int millis) throws IOException {
      socket.setSoTimeout(millis);
      try {
        int b = in.read();
        if (b == -1) {
          return true;
        }
        throw new AssertionError("the proxy sent '" + (char) b + "'");
      } catch (SocketTimeoutException expected) {
        return true;
      } finally {
        socket.setSoTimeout(10_000);
      }
    }

    /** True when the proxy closed this connection (after an optional Terminate). */
    boolean closedByProxy() throws IOException {
      try {
        int b = in.read();
        if (b == 'X') {
          in.readInt();
          b = in.read();
        }
        return b == -1;
      } catch (IOException e) {
        return true;
      }
    }

    /** Writes all parts in one write, so the proxy reads them together. */
    void send(byte[]... parts) throws IOException {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      for (byte[] part : parts) {
        all.writeBytes(part);
      }
      out.write(all.toByteArray());
      out.flush();
    }

    /** RowDescription for one text column, {@code rows} DataRows of {@code value}, C and Z. */
    void sendResult(String value, int rows, char status) throws IOException {
      ByteArrayOutputStream reply = new ByteArrayOutputStream();
      reply.writeBytes(rowDescription("v"));
      byte[] row = dataRow(value);
      for (int i = 0; i < rows; i++) {
        reply.writeBytes(row);
      }
      reply.writeBytes(commandComplete("SELECT " + rows));
      reply.writeBytes(readyForQuery(status));
      send(reply.toByteArray());
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  static byte[] frame(char type, int first, byte[] rest) {
    byte[] body = new byte[4 + rest.length];
    body[0] = (byte) (first >>> 24);
    body[1] = (byte) (first >>> 16);
    body[2] = (byte) (first >>> 8);
    body[3] = (byte) first;
    System.arraycopy(rest, 0, body, 4, rest.length);
    return RawClient.typed(type, body);
  }

  static byte[] parameterStatus(String name, String value) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(RawClient.cstring(name));
    body.writeBytes(RawClient.cstring(value));
    return RawClient.typed('S', body.toByteArray());
  }

  static byte[] readyForQuery(char status) {
    return RawClient.typed('Z', new byte[] {(byte) status});
  }

  static byte[] commandComplete(String tag) {
    return RawClient.typed('C', RawClient.cstring(tag));
  }

  static byte[] error(String severity, String code, String message) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (String field : new String[] {"S" + severity, "V" + severity, "C" + code, "M" + message}) {
      body.writeBytes(RawClient.cstring(field));
    }
    body.write(0);
    return RawClient.typed('E', body.toByteArray());
  }

  static byte[] rowDescription(String column) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(0);
    body.write(1);
    body.writeBytes(RawClient.cstring(column));
    body.writeBytes(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 0, 0, 0, 0, 0});
    return RawClient.typed('T', body.toByteArray());
  }

  static byte[] dataRow(String value) {
    byte[] v = value.getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[2 + 4 + v.length];
    body[1] = 1;
    body[2] = (byte) (v.length >>> 24);
    body[3] = (byte) (v.length >>> 16);
    body[4] = (byte) (v.length >>> 8);
    body[5] = (byte) v.length;
    System.arraycopy(v, 0, body, 6, v.length);
    return RawClient.typed('D', body);
  }
}
