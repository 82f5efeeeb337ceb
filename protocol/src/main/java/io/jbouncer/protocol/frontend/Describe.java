package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;

/**
 * Describe: ask for the description of the prepared statement ({@code kind} {@link #STATEMENT}) or
 * portal ({@link #PORTAL}) called {@code name} ("" for the unnamed one). See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-DESCRIBE">Describe</a>.
 */
public record Describe(char kind, String name) implements FrontendMessage {
  public static final char TYPE = 'D';
  public static final char STATEMENT = 'S';
  public static final char PORTAL = 'P';
  static final String NAME = "Describe";

  public Describe {
    if (!isValid(kind)) {
      throw new IllegalArgumentException(describe(kind));
    }
  }

  public static Describe decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    if (!body.isReadable()) {
      throw new ProtocolException(NAME + ": 0 bytes (expected: the kind, S or P)");
    }
    char kind = (char) body.readUnsignedByte();
    if (!isValid(kind)) {
      throw new ProtocolException(describe(kind));
    }
    String name = Frames.readCString(body);
    Frames.requireEnd(body, NAME);
    return new Describe(kind, name);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          body.writeByte(kind);
          Frames.writeCString(body, name);
        });
  }

  private static boolean isValid(char kind) {
    return kind == STATEMENT || kind == PORTAL;
  }

  private static String describe(char kind) {
    return NAME + " kind: 0x" + Integer.toHexString(kind) + " (expected: S or P)";
  }
}
