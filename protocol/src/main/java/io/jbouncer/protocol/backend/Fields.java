package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The field list shared by ErrorResponse and NoticeResponse: a code byte and a string, each. */
final class Fields {
  static final char SEVERITY = 'S';
  static final char SEVERITY_NONLOCALIZED = 'V';
  static final char CODE = 'C';
  static final char MESSAGE = 'M';
  static final char DETAIL = 'D';

  private Fields() {}

  /** An unmodifiable copy that keeps the given order, which is the order on the wire. */
  static Map<Character, String> copyOf(Map<Character, String> fields) {
    Map<Character, String> copy = new LinkedHashMap<>();
    fields.forEach(
        (code, value) -> {
          if (code == 0) {
            throw new IllegalArgumentException("field code NUL ends the field list");
          }
          if (code > 0xff) {
            throw new IllegalArgumentException("field code '" + code + "' is not a single byte");
          }
          copy.put(code, value);
        });
    return Collections.unmodifiableMap(copy);
  }

  static Map<Character, String> of(String severity, String sqlState, String message) {
    Map<Character, String> fields = new LinkedHashMap<>();
    fields.put(SEVERITY, severity);
    fields.put(SEVERITY_NONLOCALIZED, severity);
    fields.put(CODE, sqlState);
    fields.put(MESSAGE, message);
    return fields;
  }

  static Map<Character, String> read(ByteBuf frame, char type, String name) {
    ByteBuf body = Frames.body(frame, type);
    Map<Character, String> fields = new LinkedHashMap<>();
    while (body.isReadable()) {
      char code = (char) body.readUnsignedByte();
      if (code == 0) {
        Frames.requireEnd(body, name);
        return Collections.unmodifiableMap(fields);
      }
      fields.put(code, Frames.readCString(body));
    }
    throw new ProtocolException(name + ": missing terminator after the fields");
  }

  static ByteBuf write(ByteBuf out, char type, Map<Character, String> fields) {
    return Frames.write(
        out,
        type,
        body -> {
          fields.forEach(
              (code, value) -> {
                body.writeByte(code);
                Frames.writeCString(body, value);
              });
          body.writeByte(0);
        });
  }

  /** The non-localized severity (PostgreSQL 9.6+), else the localized one, else "". */
  static String severity(Map<Character, String> fields) {
    String severity = fields.get(SEVERITY_NONLOCALIZED);
    return severity != null ? severity : fields.getOrDefault(SEVERITY, "");
  }

  static String get(Map<Character, String> fields, char code) {
    return fields.getOrDefault(code, "");
  }

  static @Nullable String find(Map<Character, String> fields, char code) {
    return fields.get(code);
  }
}
