package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * SASLInitialResponse: the mechanism the client chose and its first message (for SCRAM, the
 * client-first-message); {@code data} is {@code null} when there is none (length -1 on the wire).
 * The array is held as given, not copied: neither side may change it. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SASLINITIALRESPONSE">SASLInitialResponse</a>.
 */
public record SaslInitialResponse(String mechanism, byte @Nullable [] data)
    implements FrontendMessage {
  public static final char TYPE = 'p';
  static final String NAME = "SASLInitialResponse";

  public static SaslInitialResponse decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    String mechanism = Frames.readCString(body);
    if (body.readableBytes() < 4) {
      throw new ProtocolException(
          NAME + ": " + body.readableBytes() + " bytes after the mechanism (expected: >= 4)");
    }
    int length = body.readInt();
    if (length == -1) {
      Frames.requireEnd(body, NAME);
      return new SaslInitialResponse(mechanism, null);
    }
    if (length != body.readableBytes()) {
      throw new ProtocolException(
          NAME + " data length: " + length + " (expected: " + body.readableBytes() + " or -1)");
    }
    byte[] data = new byte[length];
    body.readBytes(data);
    return new SaslInitialResponse(mechanism, data);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          Frames.writeCString(body, mechanism);
          byte[] data = this.data;
          if (data == null) {
            body.writeInt(-1);
          } else {
            body.writeInt(data.length);
            body.writeBytes(data);
          }
        });
  }
}
