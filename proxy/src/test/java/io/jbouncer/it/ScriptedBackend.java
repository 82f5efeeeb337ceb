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
  private final ServerSocket listener;
  private final BlockingQueue<Session> sessions = new LinkedBlockingQueue<>();
  private final Thread acceptor;
  private int nextPid = 1000;

  ScriptedBackend() throws IOException {
    listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = new Thread(this::acceptLoop, "scripted-backend");
    acceptor.setDaemon(true);
    acceptor.start();
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
      try {
        Socket socket = listener.accept();
        Session session = new Session(socket, nextPid++);
        session.login();
        sessions.add(session);
      } catch (IOException e) {
        return;
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
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    Session(Socket socket, int pid) throws IOException {
      this.socket = socket;
      this.pid = pid;
      socket.setSoTimeout(10_000);
      in = new DataInputStream(socket.getInputStream());
      out = socket.getOutputStream();
    }

    private void login() throws IOException {
      byte[] packet = new byte[in.readInt() - 4];
      in.readFully(packet);
      String[] parts = new String(packet, 4, packet.length - 4, StandardCharsets.UTF_8).split("\0");
      for (int i = 0; i + 1 < parts.length; i += 2) {
        startup.put(parts[i], parts[i + 1]);
      }
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
