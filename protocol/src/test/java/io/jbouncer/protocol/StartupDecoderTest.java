package io.jbouncer.protocol;

import static io.jbouncer.testing.Wire.buf;
import static io.jbouncer.testing.Wire.bytes;
import static io.jbouncer.testing.Wire.readInbound;
import static io.jbouncer.testing.Wire.readInboundBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.jbouncer.protocol.StartupPacket.CancelRequest;
import io.jbouncer.protocol.StartupPacket.GssEncRequest;
import io.jbouncer.protocol.StartupPacket.SslRequest;
import io.jbouncer.protocol.StartupPacket.StartupMessage;
import io.jbouncer.protocol.frontend.Startup;
import io.jbouncer.testing.Wire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartupDecoderTest {
  private static final byte[] SSL_REQUEST = bytes(8, 80877103);
  private static final byte[] GSSENC_REQUEST = bytes(8, 80877104);
  private static final byte[] STARTUP =
      bytes(52, 196608, "user\0alice\0database\0shop\0application_name\0\0\0");
  private static final Map<String, String> PARAMETERS =
      orderedMap("user", "alice", "database", "shop", "application_name", "");
  private static final byte[] QUERY = bytes('Q', 13, "SELECT 1\0");
  private static final byte[] TERMINATE = bytes('X', 4);

  @Test
  void decodesAStartupMessageReadWhole() {
    EmbeddedChannel channel = newChannel();

    channel.writeInbound(buf(STARTUP));

    assertThat(readInbound(channel)).containsExactly(new StartupMessage(196608, PARAMETERS));
    assertThat(channel.pipeline().get(StartupDecoder.class)).isNull();
    assertThat(channel.pipeline().get("frameDecoder")).isInstanceOf(PgFrameDecoder.class);
    assertFalse(channel.finish());
  }

  @Test
  void keepsTheParametersInTheClientsOrder() {
    EmbeddedChannel channel = newChannel();

    channel.writeInbound(buf(STARTUP));

    StartupMessage message = (StartupMessage) readInbound(channel).get(0);
    assertThat(message.parameters().keySet())
        .containsExactly("user", "database", "application_name");
    assertThat(message.majorVersion()).isEqualTo(3);
    assertThat(message.minorVersion()).isEqualTo(0);
    assertFalse(channel.finish());
  }

  @Test
  void decodesAStartupMessageReadOneByteAtATime() {
    EmbeddedChannel channel = newChannel();

    for (byte b : STARTUP) {
      channel.writeInbound(buf(new byte[] {b}));
    }

    assertThat(readInbound(channel)).containsExactly(new StartupMessage(196608, PARAMETERS));
    assertFalse(channel.finish());
  }

  @Test
  void decodesWhatStartupEncodes() {
    byte[] encoded = Wire.encode(new Startup(PARAMETERS)::encodeTo);
    EmbeddedChannel channel = newChannel();

    channel.writeInbound(buf(encoded));

    assertThat(encoded).isEqualTo(STARTUP);
    assertThat(readInbound(channel)).containsExactly(new StartupMessage(196608, PARAMETERS));
    assertFalse(channel.finish());
  }

  @Test
  void handsTypedFramesInTheSameReadToTheFrameDecoder() {
    EmbeddedChannel channel = newChannel();

    channel.writeInbound(buf(bytes(STARTUP, QUERY, Arrays.copyOf(TERMINATE, 2))));
    List<Object> first = readInbound(channel);
    channel.writeInbound(buf(Arrays.copyOfRange(TERMINATE, 2, TERMINATE.length)));

    try {
      assertThat(first).hasSize(2);
      assertThat(first.get(0)).isEqualTo(new StartupMessage(196608, PARAMETERS));
      assertThat(ByteBufUtil.getBytes((ByteBuf) first.get(1))).isEqualTo(QUERY);
    } finally {
      Wire.release(first);
    }
    assertThat(readInboundBytes(channel)).containsExactly(TERMINATE);
    assertFalse(channel.finish());
  }

  @Test
  void decodesAnSslRequestThenAStartupMessage() {
    EmbeddedChannel channel = newChannel();

    channel.writeInbound(buf(SSL_REQUEST));
    List<Object> first = readInbound(channel);
    channel.writeInbound(buf(STARTUP));

    assertThat(first).containsExactly(new SslRequest());
    assertThat(readInbound(channel)).containsExactly(new StartupMessage(196608, PARAMETERS));
    assertFalse(channel.finish());
  }

  @Test
  void decodesAnSslRequestReadOneByteAtATime() {
    EmbeddedChannel channel = newChannel();

    for (byte b : SSL_REQUEST) {
      channel.writeInbound(buf(new byte[] {b}));
    }

    assertThat(readInbound(channel)).containsExactly(new SslRequest());
    assertThat(channel.pipeline().get(StartupDecoder.class)).isNotNull();
    assertFalse(channel.finish());
  }

  @Test
  void rejectsDataBufferedAfterAnSslRequest() {
    EmbeddedChannel channel = newChannel();

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes(SSL_REQUEST, STARTUP))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .isInstanceOf(ProtocolException.class)
        .hasMessage("received unencrypted data after SSL request: 52 bytes (expected: 0)");
    channel.writeInbound(buf(STARTUP));

    assertThat(readInbound(channel)).isEmpty(); // neither the request nor anything after it
    assertFalse(channel.finish());
  }

  @Test
  void decodesAGssEncRequestThenAStartupMessage() {
    EmbeddedChannel channel = newChannel();

    channel.writeInbound(buf(GSSENC_REQUEST));
    List<Object> first = readInbound(channel);
    channel.writeInbound(buf(STARTUP));

    assertThat(first).containsExactly(new GssEncRequest());
    assertThat(readInbound(channel)).containsExactly(new StartupMessage(196608, PARAMETERS));
    assertFalse(channel.finish());
  }

  @Test
  void rejectsDataBufferedAfterAGssEncRequest() {
    EmbeddedChannel channel = newChannel();

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes(GSSENC_REQUEST, 'x'))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .hasMessage(
            "received unencrypted data after GSSAPI encryption request: 1 bytes (expected: 0)");
    assertFalse(channel.finish());
  }

  @Test
  void decodesACancelRequestAndIgnoresWhatFollows() {
    EmbeddedChannel channel = newChannel();

    channel.writeInbound(buf(bytes(16, 80877102, 0x01020304, 0xfffffffe, "junk")));
    List<Object> messages = readInbound(channel);
    channel.writeInbound(buf(STARTUP));

    assertThat(messages).containsExactly(new CancelRequest(0x01020304_fffffffeL));
    assertThat(readInbound(channel)).isEmpty();
    assertFalse(channel.finish());
  }

  @Test
  void decodesWhatCancelRequestEncodes() {
    io.jbouncer.protocol.frontend.CancelRequest cancel =
        io.jbouncer.protocol.frontend.CancelRequest.ofKey(0x7fffffff_80000000L);
    EmbeddedChannel channel = newChannel();

    channel.writeInbound(buf(Wire.encode(cancel::encodeTo)));

    assertThat(readInbound(channel)).containsExactly(new CancelRequest(cancel.key()));
    assertFalse(channel.finish());
  }

  @Test
  void rejectsACancelRequestOfTheWrongLength() {
    EmbeddedChannel channel = newChannel();

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes(20, 80877102, 1, 2, 3))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .hasMessage("cancel request length: 20 (expected: 16)");
    assertFalse(channel.finish());
  }

  @Test
  void decodesTheVersionOfAProtocol2StartupWithoutParameters() {
    EmbeddedChannel channel = newChannel();

    channel.writeInbound(buf(bytes(16, 0x00020000, "user\0xy\0")));

    StartupMessage message = (StartupMessage) readInbound(channel).get(0);
    assertThat(message.protocolVersion()).isEqualTo(0x00020000);
    assertThat(message.majorVersion()).isEqualTo(2);
    assertThat(message.parameters()).isEmpty();
    assertFalse(channel.finish());
  }

  @Test
  void rejectsAParameterWithoutItsNul() {
    EmbeddedChannel channel = newChannel();

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes(18, 196608, "user\0alice"))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .isInstanceOf(ProtocolException.class)
        .hasMessage("string without terminating NUL in 5 bytes");
    channel.writeInbound(buf(STARTUP));

    assertThat(readInbound(channel)).isEmpty();
    assertFalse(channel.finish());
  }

  @Test
  void rejectsParametersWithoutTheTerminator() {
    EmbeddedChannel channel = newChannel();

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes(19, 196608, "user\0alice\0"))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .hasMessage("startup packet: missing terminator after the parameters");
    assertFalse(channel.finish());
  }

  @Test
  void rejectsBytesAfterTheTerminator() {
    EmbeddedChannel channel = newChannel();

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes(22, 196608, "user\0alice\0\0xy"))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .hasMessage("startup packet terminator: 2 bytes after the end (expected: 0)");
    assertFalse(channel.finish());
  }

  @Test
  void rejectsAPacketOverTheLimit() {
    EmbeddedChannel channel = newChannel();

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes(10001, 196608))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .isInstanceOf(ProtocolException.class)
        .hasMessage("startup packet length: 10001 (expected: 8..10000)");
    assertFalse(channel.finish());
  }

  @Test
  void rejectsAPacketUnderEightBytes() {
    EmbeddedChannel channel = newChannel();

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes(7, 196608))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .hasMessage("startup packet length: 7 (expected: 8..10000)");
    assertFalse(channel.finish());
  }

  @Test
  void rejectsANegativeLength() {
    EmbeddedChannel channel = newChannel();

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes(-2, 196608))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .hasMessage("startup packet length: -2 (expected: 8..10000)");
    assertFalse(channel.finish());
  }

  private static EmbeddedChannel newChannel() {
    return new EmbeddedChannel(new StartupDecoder(1000));
  }

  private static Map<String, String> orderedMap(String... keysAndValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }
}
