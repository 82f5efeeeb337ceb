package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * RowDescription: the columns of the rows to come. Only the names are kept, which is what a client
 * reading text results needs; {@link #encodeTo} describes every column as a {@code text} value not
 * from a table (type OID 25, type size -1, modifier -1, text format), as a test server would. For
 * clients and test servers: the proxy forwards {@code T} frames without building these, and {@link
 * BackendMessage#decode} returns {@code null} for them. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-ROWDESCRIPTION">RowDescription</a>.
 */
public record RowDescription(List<String> columnNames) implements BackendMessage {
  public static final char TYPE = 'T';
  static final String NAME = "RowDescription";

  /** After each name: table OID, column number, type OID, type size, type modifier, format. */
  private static final int FIELD_TAIL = 4 + 2 + 4 + 2 + 4 + 2;

  private static final int TEXT_OID = 25;
  private static final int MAX_FIELDS = 0xffff;

  public RowDescription {
    columnNames = List.copyOf(columnNames);
    if (columnNames.size() > MAX_FIELDS) {
      throw new IllegalArgumentException(
          NAME + " field count: " + columnNames.size() + " (expected: <= " + MAX_FIELDS + ")");
    }
  }

  public static RowDescription decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    if (body.readableBytes() < 2) {
      throw new ProtocolException(
          NAME + " length: " + (body.readableBytes() + 4) + " (expected: >= 6)");
    }
    int count = body.readUnsignedShort();
    // each field takes at least its name's NUL and the tail: this bounds the count before
    // anything is allocated
    int most = body.readableBytes() / (1 + FIELD_TAIL);
    if (count > most) {
      throw new ProtocolException(
          NAME
              + " field count: "
              + count
              + " (expected: <= "
              + most
              + ", what the bytes left hold)");
    }
    List<String> names = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      names.add(Frames.readCString(body));
      if (body.readableBytes() < FIELD_TAIL) {
        throw new ProtocolException(
            NAME
                + " field "
                + i
                + ": "
                + body.readableBytes()
                + " bytes after the name (expected: >= "
                + FIELD_TAIL
                + ")");
      }
      body.skipBytes(FIELD_TAIL);
    }
    Frames.requireEnd(body, NAME);
    return new RowDescription(names);
  }

  /** The number of fields (columns). */
  public int fieldCount() {
    return columnNames.size();
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          body.writeShort(columnNames.size());
          for (String name : columnNames) {
            Frames.writeCString(body, name);
            body.writeInt(0); // not from a table
            body.writeShort(0); // so no column number
            body.writeInt(TEXT_OID);
            body.writeShort(-1); // variable size
            body.writeInt(-1); // no type modifier
            body.writeShort(0); // text format
          }
        });
  }
}
