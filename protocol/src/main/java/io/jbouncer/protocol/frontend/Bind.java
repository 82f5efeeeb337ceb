package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Bind: make the portal {@code portal} from the prepared statement {@code statement} ("" for the
 * unnamed ones) with {@code textParameters}, every one in text format, {@code null} for SQL NULL,
 * and every result column in text format. That is the only Bind this record holds: it encodes both
 * format-code counts as 0. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-BIND">Bind</a>.
 */
public record Bind(String portal, String statement, List<@Nullable String> textParameters)
    implements FrontendMessage {
  public static final char TYPE = 'B';
  static final String NAME = "Bind";

  private static final int TEXT = 0;

  public Bind {
    // List.copyOf refuses nulls, and a null here is SQL NULL
    textParameters = Collections.unmodifiableList(new ArrayList<>(textParameters));
    if (textParameters.size() > Parse.MAX_PARAMETERS) {
      throw new IllegalArgumentException(
          NAME
              + " parameter count: "
              + textParameters.size()
              + " (expected: <= "
              + Parse.MAX_PARAMETERS
              + ")");
    }
  }

  /**
   * Reads a Bind whose parameters and results are all in text format, however the format codes say
   * so (no codes, one code 0, or a 0 for each).
   *
   * @throws ProtocolException if the frame is malformed
   * @throws IllegalArgumentException if the frame is well-formed but asks for a binary (or other
   *     non-text) format, which this record cannot hold
   */
  public static Bind decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    String portal = Frames.readCString(body);
    String statement = Frames.readCString(body);
    int formatCount = readCount(body, "parameter format code");
    readTextFormats(body, formatCount, "parameter");
    int count = readCount(body, "parameter");
    if (formatCount > 1 && formatCount != count) {
      throw new ProtocolException(
          NAME
              + " parameter format code count: "
              + formatCount
              + " (expected: 0, 1 or "
              + count
              + ", the parameter count)");
    }
    // each value takes at least its length: this bounds the count before anything is allocated
    if (count > body.readableBytes() / 4) {
      throw new ProtocolException(
          NAME
              + " parameter count: "
              + count
              + " (expected: <= "
              + body.readableBytes() / 4
              + ", the bytes left / 4)");
    }
    List<@Nullable String> parameters = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      byte[] value = Frames.readLengthPrefixed(body, NAME + " parameter " + i);
      parameters.add(value == null ? null : new String(value, StandardCharsets.UTF_8));
    }
    readTextFormats(body, readCount(body, "result format code"), "result");
    Frames.requireEnd(body, NAME);
    return new Bind(portal, statement, parameters);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          Frames.writeCString(body, portal);
          Frames.writeCString(body, statement);
          body.writeShort(0); // no parameter format codes: all text
          body.writeShort(textParameters.size());
          for (String parameter : textParameters) {
            if (parameter == null) {
              body.writeInt(-1);
            } else {
              int lengthIndex = body.writerIndex();
              body.writeInt(0);
              int length = body.writeCharSequence(parameter, StandardCharsets.UTF_8);
              body.setInt(lengthIndex, length);
            }
          }
          body.writeShort(0); // no result format codes: all text
        });
  }

  private static int readCount(ByteBuf body, String what) {
    if (body.readableBytes() < 2) {
      throw new ProtocolException(
          NAME
              + ": "
              + body.readableBytes()
              + " bytes left for the "
              + what
              + " count (expected: >= 2)");
    }
    return body.readUnsignedShort();
  }

  private static void readTextFormats(ByteBuf body, int count, String what) {
    if (count > body.readableBytes() / 2) {
      throw new ProtocolException(
          NAME
              + " "
              + what
              + " format code count: "
              + count
              + " (expected: <= "
              + body.readableBytes() / 2
              + ", the bytes left / 2)");
    }
    for (int i = 0; i < count; i++) {
      short code = body.readShort();
      if (code != TEXT) {
        throw new IllegalArgumentException(
            NAME
                + " "
                + what
                + " format code "
                + i
                + ": "
                + code
                + " (expected: 0, text; this record holds text formats only)");
      }
    }
  }
}
