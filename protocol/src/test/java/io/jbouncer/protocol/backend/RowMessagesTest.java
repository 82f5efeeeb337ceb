package io.jbouncer.protocol.backend;

import static io.jbouncer.testing.Wire.bytes;
import static io.jbouncer.testing.Wire.decode;
import static io.jbouncer.testing.Wire.encode;
import static io.jbouncer.testing.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.protocol.ProtocolException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class RowMessagesTest {
  private static final char ZERO = (char) 0;
  private static final char ONE = (char) 1;
  private static final char TWO = (char) 2;
  private static final char THREE = (char) 3;

  /**
   * After each name as {@link RowDescription#encodeTo} writes it: a text value not from a table.
   */
  private static final byte[] TEXT_FIELD =
      bytes(0, ZERO, ZERO, 25, (char) 0xff, (char) 0xff, -1, ZERO, ZERO);

  @Test
  void dataRow() {
    DataRow row = DataRow.ofText(Arrays.asList("42", null, "", "ü"));
    byte[] frame = bytes('D', 26, ZERO, (char) 4, 2, "42", -1, 0, 2, "ü");

    assertThat(hex(encode(row::encodeTo))).isEqualTo(hex(frame));
    DataRow decoded = decode(frame, DataRow::decode);
    assertThat(decoded.size()).isEqualTo(4);
    assertThat(decoded.text(0)).isEqualTo("42");
    assertThat(decoded.text(1)).isNull();
    assertThat(decoded.values().get(1)).isNull();
    assertThat(decoded.text(2)).isEmpty();
    assertThat(decoded.text(3)).isEqualTo("ü");
    assertThat(decoded).usingRecursiveComparison().isEqualTo(row);
    assertThat(hex(encode(decoded::encodeTo))).isEqualTo(hex(frame));
    assertThatThrownBy(() -> decoded.text(4)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void dataRowHoldsBinaryValuesAsGiven() {
    byte[] value = {0, (byte) 0xff, 0x7f};
    DataRow row = new DataRow(List.of(value));
    byte[] frame = bytes('D', 13, ZERO, ONE, 3, value);

    assertThat(hex(encode(row::encodeTo))).isEqualTo(hex(frame));
    assertThat(decode(frame, DataRow::decode).values()).containsExactly(value);
  }

  @Test
  void dataRowWithoutColumns() {
    byte[] frame = bytes('D', 6, ZERO, ZERO);

    assertThat(hex(encode(new DataRow(List.of())::encodeTo))).isEqualTo(hex(frame));
    assertThat(decode(frame, DataRow::decode).values()).isEmpty();
  }

  @Test
  void dataRowCopiesItsList() {
    List<byte[]> values = new ArrayList<>();
    values.add(null);
    DataRow row = new DataRow(values);
    values.add(new byte[0]);

    assertThat(row.size()).isEqualTo(1);
    assertThatThrownBy(() -> row.values().add(null))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void dataRowReadsTheCountUnsigned() {
    DataRow row = new DataRow(Collections.nCopies(0xffff, null));

    assertThat(decode(encode(row::encodeTo), DataRow::decode).size()).isEqualTo(0xffff);
    assertThatThrownBy(() -> new DataRow(Collections.nCopies(0x10000, null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("DataRow column count: 65536 (expected: <= 65535)");
  }

  @Test
  void dataRowRejectsMalformedFrames() {
    assertThatThrownBy(() -> decode(bytes('D', 10, ZERO, ONE, -2), DataRow::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("DataRow column 0 length: -2 (expected: -1 or 0..0)");
    assertThatThrownBy(() -> decode(bytes('D', 10, ZERO, ONE, Integer.MIN_VALUE), DataRow::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("DataRow column 0 length: -2147483648 (expected: -1 or 0..0)");
    assertThatThrownBy(() -> decode(bytes('D', 16, ZERO, TWO, -1, 3, "ab"), DataRow::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("DataRow column 1 length: 3 (expected: -1 or 0..2)");
    assertThatThrownBy(
            () -> decode(bytes('D', 14, ZERO, TWO, 2, "ab", ZERO, ZERO), DataRow::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("DataRow column 1: 2 bytes left (expected: >= 4, the value length)");
    assertThatThrownBy(() -> decode(bytes('D', 10, ZERO, TWO, -1), DataRow::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("DataRow column count: 2 (expected: <= 1, the bytes left / 4)");
    assertThatThrownBy(() -> decode(bytes('D', 5, ZERO), DataRow::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("DataRow length: 5 (expected: >= 6)");
    assertThatThrownBy(() -> decode(bytes('D', 11, ZERO, ONE, -1, 'x'), DataRow::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("DataRow: 1 bytes after the end (expected: 0)");
    assertThatThrownBy(() -> decode(bytes('T', 6, ZERO, ZERO), DataRow::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message type: 'T' (expected: 'D')");
  }

  @Test
  void rowDescription() {
    RowDescription description = RowDescription.ofText(List.of("id", "näme"));
    byte[] frame = bytes('T', 51, ZERO, TWO, "id\0", TEXT_FIELD, "näme\0", TEXT_FIELD);

    assertThat(hex(encode(description::encodeTo))).isEqualTo(hex(frame));
    RowDescription decoded = decode(frame, RowDescription::decode);
    assertThat(decoded).isEqualTo(description);
    assertThat(decoded.fieldCount()).isEqualTo(2);
    assertThat(decoded.columnNames()).containsExactly("id", "näme");
    assertThat(hex(encode(decoded::encodeTo))).isEqualTo(hex(frame));
  }

  @Test
  void rowDescriptionKeepsTheNameTypeAndSizeOfWhatAServerSends() {
    // SELECT relname FROM pg_class: from table 1259, column 2, type name (19), size 64, binary
    byte[] field = bytes(1259, ZERO, TWO, 19, ZERO, (char) 64, -1, ZERO, ONE);
    byte[] frame = bytes('T', 32, ZERO, ONE, "relname\0", field);

    assertThat(decode(frame, RowDescription::decode))
        .isEqualTo(new RowDescription(List.of(new RowDescription.Field("relname", 19, 64))));
  }

  @Test
  void rowDescriptionOfTypedColumns() {
    // int4 (23, size 4) and int8 (20, size 8), as the admin console describes its columns
    RowDescription description =
        new RowDescription(
            List.of(new RowDescription.Field("port", 23, 4), new RowDescription.Field("n", 20, 8)));
    byte[] frame =
        bytes(
            'T',
            4 + 2 + 5 + 18 + 2 + 18,
            ZERO,
            TWO,
            "port\0",
            0,
            ZERO,
            ZERO,
            23,
            ZERO,
            (char) 4,
            -1,
            ZERO,
            ZERO,
            "n\0",
            0,
            ZERO,
            ZERO,
            20,
            ZERO,
            (char) 8,
            -1,
            ZERO,
            ZERO);

    assertThat(hex(encode(description::encodeTo))).isEqualTo(hex(frame));
    assertThat(decode(frame, RowDescription::decode)).isEqualTo(description);
  }

  @Test
  void rowDescriptionWithoutFields() {
    byte[] frame = bytes('T', 6, ZERO, ZERO);

    assertThat(hex(encode(RowDescription.ofText(List.of())::encodeTo))).isEqualTo(hex(frame));
    assertThat(decode(frame, RowDescription::decode).fieldCount()).isZero();
  }

  @Test
  void rowDescriptionRejectsMalformedFrames() {
    byte[] shortField = Arrays.copyOf(TEXT_FIELD, 17);
    assertThatThrownBy(
            () ->
                decode(
                    bytes('T', 45, ZERO, TWO, "a\0", TEXT_FIELD, "b\0", shortField),
                    RowDescription::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("RowDescription field 1: 17 bytes after the name (expected: >= 18)");
    assertThatThrownBy(
            () -> decode(bytes('T', 27, ZERO, ONE, "abc", TEXT_FIELD), RowDescription::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("RowDescription field 0: 17 bytes after the name (expected: >= 18)");
    assertThatThrownBy(
            () -> decode(bytes('T', 26, ZERO, TWO, "a\0", TEXT_FIELD), RowDescription::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("RowDescription field count: 2 (expected: <= 1, what the bytes left hold)");
    assertThatThrownBy(
            () -> decode(bytes('T', 26, ZERO, ZERO, "a\0", TEXT_FIELD), RowDescription::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("RowDescription: 20 bytes after the end (expected: 0)");
    assertThatThrownBy(() -> decode(bytes('T', 4), RowDescription::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("RowDescription length: 4 (expected: >= 6)");
    assertThatThrownBy(
            () -> decode(bytes('T', 27, ZERO, ONE, "a\0", TEXT_FIELD), RowDescription::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message 'T' length: 27 (expected: 26, the frame size)");
  }

  @Test
  void theProxyDecoderStillLeavesRowsAlone() {
    byte[] rowDescription = encode(RowDescription.ofText(List.of("a"))::encodeTo);
    byte[] dataRow = encode(DataRow.ofText(List.of("1"))::encodeTo);

    assertThat(decode(rowDescription, BackendMessage::decode)).isNull();
    assertThat(decode(dataRow, BackendMessage::decode)).isNull();
  }
}
