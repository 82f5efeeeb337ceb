package io.jbouncer.protocol.backend;

import io.netty.buffer.ByteBuf;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * ErrorResponse: the fields of an error, by their one-byte codes, in wire order. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-ERRORRESPONSE">ErrorResponse</a>
 * and <a href="https://www.postgresql.org/docs/current/protocol-error-fields.html">the fields</a>.
 */
public record ErrorResponse(Map<Character, String> fields) implements BackendMessage {
  public static final char TYPE = 'E';
  static final String NAME = "ErrorResponse";

  public ErrorResponse {
    fields = Fields.copyOf(fields);
  }

  /** An error as jbouncer sends it: fields S, V (both {@code severity}), C and M, in that order. */
  public static ErrorResponse of(String severity, String sqlState, String message) {
    return new ErrorResponse(Fields.of(severity, sqlState, message));
  }

  public static ErrorResponse decode(ByteBuf frame) {
    return new ErrorResponse(Fields.read(frame, TYPE, NAME));
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Fields.write(out, TYPE, fields);
  }

  /** {@code ERROR}, {@code FATAL} or {@code PANIC}: field V, else S (localized), else "". */
  public String severity() {
    return Fields.severity(fields);
  }

  /** The SQLSTATE (field C), or "" if absent. */
  public String code() {
    return Fields.get(fields, Fields.CODE);
  }

  /** The primary message (field M), or "" if absent. */
  public String message() {
    return Fields.get(fields, Fields.MESSAGE);
  }

  /** The detail (field D), if any. */
  public @Nullable String detail() {
    return Fields.find(fields, Fields.DETAIL);
  }
}
