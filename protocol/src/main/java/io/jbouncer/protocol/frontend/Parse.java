package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Parse: prepare {@code query} as the statement named {@code statement} ("" for the unnamed one).
 * {@code parameterTypes} holds one type OID per parameter the client specifies, 0 for "let the
 * server infer it"; an OID above {@link Integer#MAX_VALUE} appears as a negative int (OIDs are
 * unsigned on the wire). See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PARSE">Parse</a>.
 */
public record Parse(String statement, String query, List<Integer> parameterTypes)
    implements FrontendMessage {
  public static final char TYPE = 'P';
  static final String NAME = "Parse";

  /** The wire count is an unsigned int16, as PostgreSQL reads it. */
  static final int MAX_PARAMETERS = 0xffff;

  public Parse {
    parameterTypes = List.copyOf(parameterTypes);
    if (parameterTypes.size() > MAX_PARAMETERS) {
      throw new IllegalArgumentException(
          NAME
              + " parameter type count: "
              + parameterTypes.size()
              + " (expected: <= "
              + MAX_PARAMETERS
              + ")");
    }
  }

  public static Parse decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    String statement = Frames.readCString(body);
    String query = Frames.readCString(body);
    if (body.readableBytes() < 2) {
      throw new ProtocolException(
          NAME + ": " + body.readableBytes() + " bytes after the query (expected: >= 2)");
    }
    int count = body.readUnsignedShort();
    // each type takes 4 bytes: this bounds the count before anything is allocated
    if (count > body.readableBytes() / 4) {
      throw new ProtocolException(
          NAME
              + " parameter type count: "
              + count
              + " (expected: <= "
              + body.readableBytes() / 4
              + ", the bytes left / 4)");
    }
    List<Integer> parameterTypes = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      parameterTypes.add(body.readInt());
    }
    Frames.requireEnd(body, NAME);
    return new Parse(statement, query, parameterTypes);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          Frames.writeCString(body, statement);
          Frames.writeCString(body, query);
          body.writeShort(parameterTypes.size());
          for (int type : parameterTypes) {
            body.writeInt(type);
          }
        });
  }
}
