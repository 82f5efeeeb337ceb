package io.jbouncer.protocol.backend;

import static io.jbouncer.testing.Wire.bytes;
import static io.jbouncer.testing.Wire.decode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.protocol.ProtocolException;
import io.jbouncer.protocol.SqlState;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ErrorResponseTest {
  private static final byte[] ERROR =
      bytes('E', 46, "SFATAL\0VFATAL\0C08P01\0Mbad startup packet\0\0");

  @Test
  void encodesSeverityTwiceThenCodeThenMessage() {
    RoundTrip.check(
        ErrorResponse.of("FATAL", SqlState.PROTOCOL_VIOLATION, "bad startup packet"),
        ERROR,
        ErrorResponse::decode);
  }

  @Test
  void readsTheFields() {
    ErrorResponse error = decode(ERROR, ErrorResponse::decode);

    assertThat(error.severity()).isEqualTo("FATAL");
    assertThat(error.code()).isEqualTo("08P01");
    assertThat(error.message()).isEqualTo("bad startup packet");
    assertThat(error.detail()).isNull();
    assertThat(error.fields().keySet()).containsExactly('S', 'V', 'C', 'M');
  }

  @Test
  void keepsEveryFieldInWireOrder() {
    byte[] frame =
        bytes('E', 71, "SFEHLER\0VERROR\0C42P01\0MRelation »x« existiert nicht\0Ddetail\0P15\0\0");

    ErrorResponse error = decode(frame, ErrorResponse::decode);

    assertThat(error.severity()).as("the non-localized severity").isEqualTo("ERROR");
    assertThat(error.message()).isEqualTo("Relation »x« existiert nicht");
    assertThat(error.detail()).isEqualTo("detail");
    assertThat(error.fields().keySet()).containsExactly('S', 'V', 'C', 'M', 'D', 'P');
    RoundTrip.check(error, frame, ErrorResponse::decode);
  }

  @Test
  void fallsBackToTheLocalizedSeverityAndToEmptyStrings() {
    ErrorResponse error = decode(bytes('E', 12, "SFATAL\0\0"), ErrorResponse::decode);

    assertThat(error.severity()).isEqualTo("FATAL");
    assertThat(error.code()).isEmpty();
    assertThat(error.message()).isEmpty();
  }

  @Test
  void rejectsFieldsWithoutTheTerminator() {
    assertThatThrownBy(() -> decode(bytes('E', 11, "SFATAL\0"), ErrorResponse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("ErrorResponse: missing terminator after the fields");
    assertThatThrownBy(() -> decode(bytes('E', 10, "SFATAL"), ErrorResponse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("string without terminating NUL in 5 bytes");
    assertThatThrownBy(() -> decode(bytes('E', 6, "\0x"), ErrorResponse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("ErrorResponse: 1 bytes after the end (expected: 0)");
  }

  @Test
  void refusesAFieldCodeThatCannotBeWritten() {
    Map<Character, String> fields = new LinkedHashMap<>();
    fields.put('\0', "x");

    assertThatThrownBy(() -> new ErrorResponse(fields))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("field code NUL ends the field list");
  }

  @Test
  void copiesTheFields() {
    Map<Character, String> fields = new LinkedHashMap<>();
    fields.put('M', "before");
    ErrorResponse error = new ErrorResponse(fields);

    fields.put('M', "after");

    assertThat(error.message()).isEqualTo("before");
    assertThatThrownBy(() -> error.fields().put('D', "x"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void noticeHasTheSameLayoutWithTypeN() {
    byte[] frame = bytes('N', 43, "SWARNING\0VWARNING\0C01000\0Mfree advice\0\0");

    RoundTrip.check(
        NoticeResponse.of("WARNING", "01000", "free advice"), frame, NoticeResponse::decode);
    NoticeResponse notice = decode(frame, NoticeResponse::decode);
    assertThat(notice.severity()).isEqualTo("WARNING");
    assertThat(notice.code()).isEqualTo("01000");
    assertThat(notice.message()).isEqualTo("free advice");
    assertThat(notice.detail()).isNull();
  }

  @Test
  void noticeIsNotAnError() {
    byte[] frame = bytes('N', 5, '\0');

    assertThatThrownBy(() -> decode(frame, ErrorResponse::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message type: 'N' (expected: 'E')");
  }
}
