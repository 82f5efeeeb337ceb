package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;

/**
 * Execute: run the portal called {@code portal} ("" for the unnamed one), returning at most {@code
 * maxRows} rows; 0 (or, as PostgreSQL reads it, any value below 1) means no limit. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-EXECUTE">Execute</a>.
 */
public record Execute(String portal, int maxRows) implements FrontendMessage {
  public static final char TYPE = 'E';
  static final String NAME = "Execute";

  public static Execute decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    String portal = Frames.readCString(body);
    if (body.readableBytes() != 4) {
      throw new ProtocolException(
          NAME + ": " + body.readableBytes() + " bytes after the portal name (expected: 4)");
    }
    return new Execute(portal, body.readInt());
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          Frames.writeCString(body, portal);
          body.writeInt(maxRows);
        });
  }
}
