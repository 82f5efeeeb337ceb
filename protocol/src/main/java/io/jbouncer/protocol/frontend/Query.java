package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;

/**
 * Query: a simple-protocol query string. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-QUERY">Query</a>.
 */
public record Query(String sql) implements FrontendMessage {
  public static final char TYPE = 'Q';
  static final String NAME = "Query";

  public static Query decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    String sql = Frames.readCString(body);
    Frames.requireEnd(body, NAME);
    return new Query(sql);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(out, TYPE, body -> Frames.writeCString(body, sql));
  }
}
