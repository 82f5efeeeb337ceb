package io.jbouncer.protocol;

import static io.jbouncer.testing.Wire.buf;
import static io.jbouncer.testing.Wire.bytes;
import static io.jbouncer.testing.Wire.hex;
import static io.jbouncer.testing.Wire.readInboundBytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgFrameDecoderTest {
  private static final byte[] PARAMETER_STATUS = bytes('S', 25, "client_encoding\0UTF8\0");
  private static final byte[] BACKEND_KEY_DATA = bytes('K', 12, 1234, 5678);
  private static final byte[] EMPTY_QUERY_RESPONSE = bytes('I', 4); // no body
  private static final byte[] READY_FOR_QUERY = bytes('Z', 5, 'I');
  private static final List<byte[]> FRAMES =
      List.of(PARAMETER_STATUS, BACKEND_KEY_DATA, EMPTY_QUERY_RESPONSE, READY_FOR_QUERY);
  private static final byte[] STREAM =
      bytes(PARAMETER_STATUS, BACKEND_KEY_DATA, EMPTY_QUERY_RESPONSE, READY_FOR_QUERY);

  @Test
  void splitsInputReadWhole() {
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(1000));

    channel.writeInbound(buf(STREAM));

    assertFrames(readInboundBytes(channel));
    assertFalse(channel.finish());
  }

  @Test
  void splitsInputReadOneByteAtATime() {
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(1000));

    for (byte b : STREAM) {
      channel.writeInbound(buf(new byte[] {b}));
    }

    assertFrames(readInboundBytes(channel));
    assertFalse(channel.finish());
  }

  @Test
  void splitsInputReadInTwoPartsAtEveryOffset() {
    for (int split = 0; split <= STREAM.length; split++) {
      EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(1000));

      channel.writeInbound(buf(Arrays.copyOfRange(STREAM, 0, split)));
      channel.writeInbound(buf(Arrays.copyOfRange(STREAM, split, STREAM.length)));

      assertFrames(readInboundBytes(channel));
      assertFalse(channel.finish());
    }
  }

  @Test
  void emitsAFrameMergedWithTheStartOfTheNext() {
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(1000));

    channel.writeInbound(buf(bytes(READY_FOR_QUERY, Arrays.copyOf(PARAMETER_STATUS, 7))));
    List<byte[]> first = readInboundBytes(channel);
    channel.writeInbound(buf(Arrays.copyOfRange(PARAMETER_STATUS, 7, PARAMETER_STATUS.length)));
    List<byte[]> second = readInboundBytes(channel);

    assertThat(first).containsExactly(READY_FOR_QUERY);
    assertThat(second).containsExactly(PARAMETER_STATUS);
    assertFalse(channel.finish());
  }

  @Test
  void acceptsAFrameOfExactlyTheMaximumLength() {
    byte[] frame = bytes('D', 10, "abcdef");
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(10));

    channel.writeInbound(buf(frame));

    assertThat(readInboundBytes(channel)).containsExactly(frame);
    assertFalse(channel.finish());
  }

  @Test
  void rejectsALengthOverTheMaximum() {
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(10));

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes('D', 11, "abcdefg"))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message 'D' length: 11 (expected: 4..10)");
    assertFalse(channel.finish());
  }

  @Test
  void rejectsALengthUnderFour() {
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(1000));

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes('Z', 3, 'I'))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .isInstanceOf(ProtocolException.class)
        .hasMessage("message 'Z' length: 3 (expected: 4..1000)");
    assertFalse(channel.finish());
  }

  @Test
  void rejectsAHugeLengthWithAnUnprintableType() {
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(Integer.MAX_VALUE));

    assertThatThrownBy(() -> channel.writeInbound(buf(bytes((char) 0xff, -1))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .hasMessage("message '\\xff' length: -1 (expected: 4..2147483647)");
    assertFalse(channel.finish());
  }

  @Test
  void waitsForAFrameOfTheLargestLengthWithoutOverflowing() {
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(Integer.MAX_VALUE));

    channel.writeInbound(buf(bytes('D', Integer.MAX_VALUE, "abc")));

    assertThat(readInboundBytes(channel)).isEmpty();
    assertFalse(channel.finish()); // the partial frame is dropped with the channel
  }

  @Test
  void emitsTheFramesBeforeABadLengthAndDiscardsEverythingAfter() {
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(1000));

    assertThatThrownBy(
            () -> channel.writeInbound(buf(bytes(READY_FOR_QUERY, 'D', 2000, READY_FOR_QUERY))))
        .isInstanceOf(DecoderException.class)
        .cause()
        .hasMessage("message 'D' length: 2000 (expected: 4..1000)");
    List<byte[]> beforeTheError = readInboundBytes(channel);
    channel.writeInbound(buf(READY_FOR_QUERY));

    assertThat(beforeTheError).containsExactly(READY_FOR_QUERY);
    assertThat(readInboundBytes(channel)).isEmpty();
    assertFalse(channel.finish());
  }

  // --- large frames emitted in pieces ---

  private static final byte[] BIG_ROW = bytes('D', 4 + 2 + 4 + 30, "\0\1", 30, "x".repeat(30));

  /** What came out: "whole:<hex>" for frames, "first:<hex>" and "more:<hex>" for pieces. */
  private static List<String> pieces(EmbeddedChannel channel) {
    List<String> pieces = new java.util.ArrayList<>();
    Object msg;
    while ((msg = channel.readInbound()) != null) {
      io.netty.buffer.ByteBuf buf = (io.netty.buffer.ByteBuf) msg;
      byte[] bytes = new byte[buf.readableBytes()];
      buf.readBytes(bytes);
      boolean continuation = buf instanceof FrameContinuation;
      buf.release();
      pieces.add((continuation ? "more:" : "part:") + hex(bytes));
    }
    return pieces;
  }

  @Test
  void streamsAFrameOverTheThresholdAsItArrives() {
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(1000, 16, "Z"));

    channel.writeInbound(buf(Arrays.copyOfRange(BIG_ROW, 0, 12)));
    List<String> first = pieces(channel);
    channel.writeInbound(buf(Arrays.copyOfRange(BIG_ROW, 12, 30)));
    List<String> second = pieces(channel);
    channel.writeInbound(buf(bytes(Arrays.copyOfRange(BIG_ROW, 30, BIG_ROW.length), STREAM)));
    List<String> rest = pieces(channel);

    assertThat(first).containsExactly("part:" + hex(Arrays.copyOfRange(BIG_ROW, 0, 12)));
    assertThat(second).containsExactly("more:" + hex(Arrays.copyOfRange(BIG_ROW, 12, 30)));
    assertThat(rest.get(0))
        .isEqualTo("more:" + hex(Arrays.copyOfRange(BIG_ROW, 30, BIG_ROW.length)));
    assertThat(rest.subList(1, rest.size()))
        .containsExactlyElementsOf(FRAMES.stream().map(f -> "part:" + hex(f)).toList());
    assertFalse(channel.finish());
  }

  @Test
  void streamedFrameReadOneByteAtATimeComesOutWholeInOrder() {
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(1000, 16, ""));
    byte[] input = bytes(BIG_ROW, READY_FOR_QUERY);
    java.io.ByteArrayOutputStream joined = new java.io.ByteArrayOutputStream();

    for (byte b : input) {
      channel.writeInbound(buf(new byte[] {b}));
      Object msg;
      while ((msg = channel.readInbound()) != null) {
        io.netty.buffer.ByteBuf buf = (io.netty.buffer.ByteBuf) msg;
        byte[] piece = new byte[buf.readableBytes()];
        buf.readBytes(piece);
        buf.release();
        joined.writeBytes(piece);
      }
    }

    assertThat(hex(joined.toByteArray())).isEqualTo(hex(input));
    assertFalse(channel.finish());
  }

  @Test
  void keepsWholeTheTypesItIsToldToAndFramesThatArriveComplete() {
    byte[] bigError = bytes('E', 4 + 32, "M" + "y".repeat(29) + "\0\0");
    EmbeddedChannel channel = new EmbeddedChannel(new PgFrameDecoder(1000, 16, "E"));

    channel.writeInbound(buf(Arrays.copyOfRange(bigError, 0, 10)));
    assertThat(readInboundBytes(channel)).as("an E is held until complete").isEmpty();
    channel.writeInbound(buf(bytes(Arrays.copyOfRange(bigError, 10, bigError.length), BIG_ROW)));

    assertThat(pieces(channel))
        .as("a large D that arrived whole is one frame")
        .containsExactly("part:" + hex(bigError), "part:" + hex(BIG_ROW));
    assertFalse(channel.finish());
  }

  private static void assertFrames(List<byte[]> frames) {
    assertThat(frames.stream().map(f -> hex(f)).toList())
        .containsExactlyElementsOf(FRAMES.stream().map(f -> hex(f)).toList());
  }
}
