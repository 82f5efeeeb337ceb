package io.jbouncer.it;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A byte-level PostgreSQL client for inputs no real driver sends. */
final class RawClient implements AutoCloseable {
  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private byte[] cancelKey = new byte[8]; // BackendKeyData (process id, secret) once logged in

  RawClient(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  /** A client logged in with md5 authentication and past its first ReadyForQuery. */
  static RawClient loggedIn(int port, String user, String password) throws IOException {
    return loggedIn(port, user, password, "app");
  }

  static RawClient loggedIn(int port, String user, String password, String database)
      throws IOException {
    RawClient raw = new RawClient(port);
    raw.send(startup("user", user, "database", database));
    String outcome = raw.finishMd5Login(user, password);
    if (!outcome.equals("logged in")) {
      raw.close();
      throw new IOException("login failed: " + outcome);
    }
    return raw;
  }

  /** Sends the StartupMessage (database app) and answers the md5 request; reads no further. */
  void startLogin(String user, String password) throws IOException {
    send(startup("user", user, "database", "app"));
    answerMd5(read(), user, password);
  }

  /**
   * After the StartupMessage: answers the md5 request and reads up to ReadyForQuery. Returns
   * "logged in", or an ErrorResponse as "SEVERITY SQLSTATE message".
   */
  String finishMd5Login(String user, String password) throws IOException {
    Message m = read();
    if (m.type() == 'E') {
      return describe(m);
    }
    answerMd5(m, user, password);
    while ((m = read()).type() != 'Z') {
      if (m.type() == 'E') {
        return describe(m);
      }
      if (m.type() == 'K') {
        cancelKey = java.util.Arrays.copyOf(m.body(), 8);
      }
    }
    return "logged in";
  }

  private static String describe(Message error) {
    Map<Character, String> fields = error.fields();
    return fields.get('S') + " " + fields.get('C') + " " + fields.get('M');
  }

  private void answerMd5(Message request, String user, String password) throws IOException {
    if (request.type() != 'R') {
      throw new IOException("expected an authentication request, got '" + request.type() + "'");
    }
    byte[] salt = java.util.Arrays.copyOfRange(request.body(), 4, 8);
    send(
        typed(
            'p',
            cstring(io.jbouncer.protocol.auth.Md5Password.clientResponse(user, password, salt))));
  }

  /** A CancelRequest packet for this client's running query, to send on a new connection. */
  byte[] cancelRequest() {
    byte[] packet = new byte[16];
    putInt(packet, 0, 16);
    putInt(packet, 4, 80877102);
    System.arraycopy(cancelKey, 0, packet, 8, 8);
    return packet;
  }

  void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** A StartupMessage with the given version and key/value pairs. */
  static byte[] startup(int version, String... keyValues) {
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    writeInt(body, 0);
    writeInt(body, version);
    for (String s : keyValues) {
      body.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      body.write(0);
    }
    body.write(0);
    byte[] bytes = body.toByteArray();
    putInt(bytes, 0, bytes.length);
    return bytes;
  }

  static byte[] startup(String... keyValues) {
    return startup(196608, keyValues);
  }

  static byte[] typed(char type, byte[] body) {
    byte[] bytes = new byte[5 + body.length];
    bytes[0] = (byte) type;
    putInt(bytes, 1, 4 + body.length);
    System.arraycopy(body, 0, bytes, 5, body.length);
    return bytes;
  }

  static byte[] cstring(String s) {
    byte[] raw = s.getBytes(StandardCharsets.UTF_8);
    byte[] bytes = new byte[raw.length + 1];
    System.arraycopy(raw, 0, bytes, 0, raw.length);
    return bytes;
  }

  /**
   * Reads one typed message; the single-byte answer to SSLRequest is read with {@link #readByte}.
   */
  Message read() throws IOException {
    char type = (char) in.readUnsignedByte();
    int length = in.readInt();
    byte[] body = new byte[length - 4];
    in.readFully(body);
    return new Message(type, body);
  }

  /** Reads exactly {@code n} bytes as they come, message boundaries or not. */
  byte[] readBytes(int n) throws IOException {
    byte[] bytes = new byte[n];
    in.readFully(bytes);
    return bytes;
  }

  int readByte() throws IOException {
    return in.read();
  }

  /** Reads until an ErrorResponse and returns its fields; fails on end of stream. */
  Map<Character, String> readError() throws IOException {
    while (true) {
      Message m = read();
      if (m.type() == 'E') {
        return m.fields();
      }
    }
  }

  /** True when the server closed the connection (end of stream within the socket timeout). */
  boolean closedByServer() throws IOException {
    try {
      return in.read() == -1;
    } catch (java.net.SocketException e) {
      return true;
    }
  }

  record Message(char type, byte[] body) {
    Map<Character, String> fields() {
      Map<Character, String> fields = new LinkedHashMap<>();
      int i = 0;
      while (i < body.length && body[i] != 0) {
        char code = (char) body[i++];
        int start = i;
        while (body[i] != 0) {
          i++;
        }
        fields.put(code, new String(body, start, i - start, StandardCharsets.UTF_8));
        i++;
      }
      return fields;
    }
  }

  private static void writeInt(java.io.ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }

  private static void putInt(byte[] bytes, int at, int v) {
    bytes[at] = (byte) (v >>> 24);
    bytes[at + 1] = (byte) (v >>> 16);
    bytes[at + 2] = (byte) (v >>> 8);
    bytes[at + 3] = (byte) v;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
