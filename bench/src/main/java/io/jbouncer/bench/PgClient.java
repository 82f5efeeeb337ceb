package io.jbouncer.bench;

import io.jbouncer.protocol.frontend.Query;
import io.jbouncer.protocol.frontend.Startup;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A minimal blocking PostgreSQL client for the benchmarks: one socket, the startup packet with
 * trust (nothing but AuthenticationOk is accepted), then simple queries sent as pre-encoded frames
 * and their replies read up to ReadyForQuery. It decodes only the type and length of each message
 * and keeps no per-query garbage beyond a reused body buffer, so that it costs little next to the
 * proxy it measures. One thread at a time.
 */
final class PgClient implements AutoCloseable {
  private static final int TIMEOUT_MILLIS = 10_000;
  private static final byte[] TERMINATE = {'X', 0, 0, 0, 4};

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private byte[] body = new byte[256];

  private PgClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 16 * 1024));
    this.out = socket.getOutputStream();
  }

  /**
   * Connects and logs in as {@code user} to {@code database}, up to the first ReadyForQuery.
   *
   * @throws IOException if the server refuses the login (its message) or asks for a password
   */
  static PgClient connect(InetSocketAddress address, String user, String database)
      throws IOException {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(TIMEOUT_MILLIS);
      socket.connect(address, TIMEOUT_MILLIS);
      PgClient client = new PgClient(socket);
      Map<String, String> parameters = new LinkedHashMap<>();
      parameters.put("user", user);
      parameters.put("database", database);
      client.out.write(bytes(out -> new Startup(parameters).encodeTo(out)));
      client.out.flush();
      client.readUntilReady(true);
      return client;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** A simple Query message, encoded once and sent as it is by {@link #query}. */
  static byte[] queryFrame(String sql) {
    return bytes(out -> new Query(sql).encodeTo(out));
  }

  /**
   * Sends {@code queryFrame} and reads the reply up to ReadyForQuery.
   *
   * @return the DataRows received
   * @throws IOException if the server answered with an ErrorResponse (its message), or closed
   */
  int query(byte[] queryFrame) throws IOException {
    out.write(queryFrame);
    out.flush();
    return readUntilReady(false);
  }

  private int readUntilReady(boolean login) throws IOException {
    int rows = 0;
    while (true) {
      char type = (char) in.readUnsignedByte();
      int length = in.readInt() - 4;
      if (length < 0) {
        throw new IOException(
            "message '" + type + "' length: " + (length + 4) + " (expected: >= 4)");
      }
      if (body.length < length) {
        body = new byte[Math.max(length, body.length * 2)];
      }
      in.readFully(body, 0, length);
      switch (type) {
        case 'D' -> rows++;
        case 'Z' -> {
          return rows;
        }
        case 'E' -> throw new IOException("server error: " + errorMessage(length));
        case 'R' -> {
          int code = length >= 4 ? readInt(body, 0) : -1;
          if (!login || code != 0) {
            throw new IOException("authentication request " + code + " (expected: 0, trust)");
          }
        }
        default -> {} // T, C, S, K, N, I: nothing to check
      }
    }
  }

  /** The M field of the ErrorResponse in {@link #body}. */
  private String errorMessage(int length) {
    int at = 0;
    while (at < length && body[at] != 0) {
      int end = at + 1;
      while (end < length && body[end] != 0) {
        end++;
      }
      if (body[at] == 'M') {
        return new String(body, at + 1, end - at - 1, StandardCharsets.UTF_8);
      }
      at = end + 1;
    }
    return "(no message)";
  }

  private static int readInt(byte[] b, int at) {
    return (b[at] & 0xff) << 24
        | (b[at + 1] & 0xff) << 16
        | (b[at + 2] & 0xff) << 8
        | b[at + 3] & 0xff;
  }

  private static byte[] bytes(Consumer<ByteBuf> encoder) {
    ByteBuf buf = Unpooled.buffer();
    try {
      encoder.accept(buf);
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  /** Sends Terminate and closes; quietly, since the other end may have gone first. */
  @Override
  public void close() {
    try {
      if (!socket.isClosed()) {
        out.write(TERMINATE);
        out.flush();
      }
    } catch (IOException e) {
      // the server closed first: nothing to terminate
    }
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
