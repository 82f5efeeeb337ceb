package io.jbouncer.protocol.backend;

import static io.jbouncer.testing.Wire.bytes;
import static io.jbouncer.testing.Wire.decode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jbouncer.protocol.ProtocolException;
import io.jbouncer.testing.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendMessagesTest {

  @Test
  void parameterStatus() {
    RoundTrip.check(
        new ParameterStatus("client_encoding", "UTF8"),
        bytes('S', 25, "client_encoding\0UTF8\0"),
        ParameterStatus::decode);
  }

  @Test
  void parameterStatusRejectsAMissingValue() {
    assertThatThrownBy(() -> decode(bytes('S', 9, "name\0"), ParameterStatus::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("string without terminating NUL in 0 bytes");
  }

  @Test
  void backendKeyData() {
    RoundTrip.check(
        new BackendKeyData(0x01020304, 0xfffffffe),
        bytes('K', 12, 0x01020304, 0xfffffffe),
        BackendKeyData::decode);
  }

  @Test
  void backendKeyDataAsOneKey() {
    BackendKeyData keyData = new BackendKeyData(-2, -1);

    assertThat(keyData.key()).isEqualTo(0xfffffffe_ffffffffL);
    assertThat(BackendKeyData.ofKey(keyData.key())).isEqualTo(keyData);
    assertThat(new BackendKeyData(7, -1).key()).isEqualTo(0x00000007_ffffffffL);
    assertThat(BackendKeyData.ofKey(0x00000007_ffffffffL)).isEqualTo(new BackendKeyData(7, -1));
  }

  @Test
  void backendKeyDataRejectsAProtocol32Key() {
    assertThatThrownBy(() -> decode(bytes('K', 40, 1, new byte[32]), BackendKeyData::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("BackendKeyData length: 40 (expected: 12)");
  }

  @Test
  void readyForQuery() {
    RoundTrip.check(new ReadyForQuery('I'), bytes('Z', 5, 'I'), ReadyForQuery::decode);
    RoundTrip.check(new ReadyForQuery('T'), bytes('Z', 5, 'T'), ReadyForQuery::decode);
    RoundTrip.check(new ReadyForQuery('E'), bytes('Z', 5, 'E'), ReadyForQuery::decode);
  }

  @Test
  void readyForQueryStatusInPlace() {
    char status = decode(bytes('Z', 5, 'T'), ReadyForQuery::status);

    assertThat(status).isEqualTo('T');
  }

  @Test
  void readyForQueryRejectsBadFrames() {
    assertThatThrownBy(() -> decode(bytes('Z', 5, 'X'), ReadyForQuery::status))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("ReadyForQuery status: 0x58 (expected: I, T or E)");
    assertThatThrownBy(() -> decode(bytes('Z', 6, "II"), ReadyForQuery::status))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("ReadyForQuery length: 6 (expected: 5)");
    assertThatThrownBy(() -> decode(bytes('Z', 4), ReadyForQuery::status))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("ReadyForQuery length: 4 (expected: 5)");
    assertThatThrownBy(() -> decode(bytes('Z', 6, 'I'), ReadyForQuery::status))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message 'Z' length: 6 (expected: 5, the frame size)");
    assertThatThrownBy(() -> decode(bytes('C', 5, 'I'), ReadyForQuery::status))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message type: 'C' (expected: 'Z')");
    assertThatThrownBy(() -> decode(bytes('Z', 5), ReadyForQuery::status))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message 'Z' length: 5 (expected: 4, the frame size)");
    assertThatThrownBy(() -> new ReadyForQuery('X')).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void readyForQueryConstantFrames() {
    assertConstant(ReadyForQuery.IDLE_FRAME, bytes('Z', 5, 'I'));
    assertConstant(ReadyForQuery.IN_TRANSACTION_FRAME, bytes('Z', 5, 'T'));
    assertConstant(ReadyForQuery.FAILED_FRAME, bytes('Z', 5, 'E'));
  }

  private static void assertConstant(ByteBuf constant, byte[] expected) {
    ByteBuf copy = constant.duplicate();
    assertThat(ByteBufUtil.getBytes(copy)).isEqualTo(expected);
    assertThat(copy.isReadOnly()).isTrue();
    assertThat(copy.release()).isFalse(); // unreleasable: writing a duplicate is always safe
    copy.skipBytes(copy.readableBytes());
    assertThat(constant.readableBytes()).as("the constant's own indexes").isEqualTo(6);
    assertThat(ReadyForQuery.status(constant)).isEqualTo((char) expected[5]);
    assertThat(constant.refCnt()).isEqualTo(1);
  }

  @Test
  void commandComplete() {
    RoundTrip.check(
        new CommandComplete("SELECT 42"), bytes('C', 14, "SELECT 42\0"), CommandComplete::decode);
  }

  @Test
  void negotiateProtocolVersion() {
    RoundTrip.check(
        new NegotiateProtocolVersion(0, List.of("_pq_.a", "_pq_.b")),
        bytes('v', 26, 0, 2, "_pq_.a\0_pq_.b\0"),
        NegotiateProtocolVersion::decode);
    RoundTrip.check(
        new NegotiateProtocolVersion(2, List.of()),
        bytes('v', 12, 2, 0),
        NegotiateProtocolVersion::decode);
  }

  @Test
  void negotiateProtocolVersionRejectsACountBeyondTheFrame() {
    assertThatThrownBy(
            () ->
                decode(
                    bytes('v', 14, 0, Integer.MAX_VALUE, "a\0"), NegotiateProtocolVersion::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("NegotiateProtocolVersion option count: 2147483647 (expected: 0..2)");
    assertThatThrownBy(() -> decode(bytes('v', 15, 0, 1, "a\0b"), NegotiateProtocolVersion::decode))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("NegotiateProtocolVersion: 1 bytes after the end (expected: 0)");
  }

  @Test
  void decodeLeavesForwardedTypesAlone() {
    byte[] dataRow = bytes('D', 11, (char) 0, (char) 1, 1, '7');

    assertThat(Wire.decode(dataRow, BackendMessage::decode)).isNull();
  }
}
