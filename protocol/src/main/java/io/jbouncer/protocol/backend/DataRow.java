package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * DataRow: one row of a result, each column's value as sent ({@code null} for SQL NULL, length -1
 * on the wire). The arrays are held as given, not copied: neither side may change them. For clients
 * and test servers: the proxy forwards {@code D} frames without building these, and {@link
 * BackendMessage#decode} returns {@code null} for them. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-DATAROW">DataRow</a>.
 */
public record DataRow(List<byte @Nullable []> values) implements BackendMessage {
  public static final char TYPE = 'D';
  static final String NAME = "DataRow";

  /** The wire count read as an unsigned int16; PostgreSQL itself allows at most 1664 columns. */
  private static final int MAX_COLUMNS = 0xffff;

  public DataRow {
    // List.copyOf refuses nulls, and a null here is SQL NULL
    values = Collections.unmodifiableList(new ArrayList<>(values));
    if (values.size() > MAX_COLUMNS) {
      throw new IllegalArgumentException(
          NAME + " column count: " + values.size() + " (expected: <= " + MAX_COLUMNS + ")");
    }
  }

  /** A row of text values, UTF-8 encoded. */
  public static DataRow ofText(List<@Nullable String> texts) {
    List<byte @Nullable []> values = new ArrayList<>(texts.size());
    for (String text : texts) {
      values.add(text == null ? null : text.getBytes(StandardCharsets.UTF_8));
    }
    return new DataRow(values);
  }

  public static DataRow decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    if (body.readableBytes() < 2) {
      throw new ProtocolException(
          NAME + " length: " + (body.readableBytes() + 4) + " (expected: >= 6)");
    }
    int count = body.readUnsignedShort();
    // each value takes at least its length: this bounds the count before anything is allocated
    if (count > body.readableBytes() / 4) {
      throw new ProtocolException(
          NAME
              + " column count: "
              + count
              + " (expected: <= "
              + body.readableBytes() / 4
              + ", the bytes left / 4)");
    }
    List<byte @Nullable []> values = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      values.add(Frames.readLengthPrefixed(body, NAME + " column " + i));
    }
    Frames.requireEnd(body, NAME);
    return new DataRow(values);
  }

  /** The number of columns. */
  public int size() {
    return values.size();
  }

  /**
   * Column {@code column}'s value as UTF-8 text, {@code null} for SQL NULL.
   *
   * @throws IndexOutOfBoundsException unless {@code 0 <= column < size()}
   */
  public @Nullable String text(int column) {
    byte[] value = values.get(column);
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          body.writeShort(values.size());
          for (byte[] value : values) {
            if (value == null) {
              body.writeInt(-1);
            } else {
              body.writeInt(value.length);
              body.writeBytes(value);
            }
          }
        });
  }
}
