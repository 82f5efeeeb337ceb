package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;

/**
 * ParameterStatus: the server reports a run-time parameter's current value. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARAMETERSTATUS">ParameterStatus</a>.
 */
public record ParameterStatus(String name, String value) implements BackendMessage {
  public static final char TYPE = 'S';
  static final String NAME = "ParameterStatus";

  public static ParameterStatus decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    String name = Frames.readCString(body);
    String value = Frames.readCString(body);
    Frames.requireEnd(body, NAME);
    return new ParameterStatus(name, value);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          Frames.writeCString(body, name);
          Frames.writeCString(body, value);
        });
  }
}
