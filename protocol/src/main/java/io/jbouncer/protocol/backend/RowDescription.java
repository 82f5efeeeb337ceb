package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * RowDescription: the columns of the rows to come, each with its name, type OID and type size. For
 * clients, test servers and the admin console: the proxy forwards {@code T} frames without building
 * these, and {@link BackendMessage#decode} returns {@code null} for them. {@link #encodeTo}
 * describes every column as not from a table, with no type modifier, in text format. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-ROWDESCRIPTION">RowDescription</a>.
 */
public record RowDescription(List<Field> fields) implements BackendMessage {
  public static final char TYPE = 'T';
  static final String NAME = "RowDescription";

  /** After each name: table OID, column number, type OID, type size, type modifier, format. */
  private static final int FIELD_TAIL = 4 + 2 + 4 + 2 + 4 + 2;

  public static final int TEXT_OID = 25;
  private static final int MAX_FIELDS = 0xffff;

  /**
   * One column: its name, type OID and type size ({@code pg_type.typlen}: -1 for variable length).
   */
  public record Field(String name, int typeOid, int typeSize) {
    /** A {@code text} column. */
    public static Field text(String name) {
      return new Field(name, TEXT_OID, -1);
    }
  }

  public RowDescription {
    fields = List.copyOf(fields);
    if (fields.size() > MAX_FIELDS) {
      throw new IllegalArgumentException(
          NAME + " field count: " + fields.size() + " (expected: <= " + MAX_FIELDS + ")");
    }
  }

  /** Columns of type {@code text} with these names. */
  public static RowDescription ofText(List<String> names) {
    return new RowDescription(names.stream().map(Field::text).toList());
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
    List<Field> fields = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String name = Frames.readCString(body);
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
      body.skipBytes(4 + 2); // table OID, column number
      int typeOid = body.readInt();
      int typeSize = body.readShort();
      body.skipBytes(4 + 2); // type modifier, format
      fields.add(new Field(name, typeOid, typeSize));
    }
    Frames.requireEnd(body, NAME);
    return new RowDescription(fields);
  }

  /** The number of fields (columns). */
  public int fieldCount() {
    return fields.size();
  }

  /** The column names, in order. */
  public List<String> columnNames() {
    return fields.stream().map(Field::name).toList();
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          body.writeShort(fields.size());
          for (Field field : fields) {
            Frames.writeCString(body, field.name());
            body.writeInt(0); // not from a table
            body.writeShort(0); // so no column number
            body.writeInt(field.typeOid());
            body.writeShort(field.typeSize());
            body.writeInt(-1); // no type modifier
            body.writeShort(0); // text format
          }
        });
  }
}
