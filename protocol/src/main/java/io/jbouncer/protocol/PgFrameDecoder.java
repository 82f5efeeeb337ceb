package io.jbouncer.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a stream of typed PostgreSQL messages into frames without modelling them: each emitted
 * {@link ByteBuf} is a retained slice of one whole frame, type byte and length included, ready to be
 * forwarded untouched. The receiver owns (and must release) each frame.
 *
 * <p>Frames longer than {@code maxFrameLength} and lengths below 4 are protocol violations.
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {
  private final int maxFrameLength;

  public PgFrameDecoder(int maxFrameLength) {
    this.maxFrameLength = maxFrameLength;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.readableBytes() >= Frames.HEADER_LENGTH) {
      int start = in.readerIndex();
      int length = in.getInt(start + 1);
      if (length < 4 || length > maxFrameLength) {
        char type = (char) in.getByte(start);
        in.skipBytes(in.readableBytes());
        throw new ProtocolException(
            "message '" + printable(type) + "' length: " + length + " (expected: 4.." + maxFrameLength + ")");
      }
      int frameLength = length + 1;
      if (in.readableBytes() < frameLength) {
        return;
      }
      out.add(in.readRetainedSlice(frameLength));
    }
  }

  static String printable(char type) {
    return type >= 0x20 && type < 0x7f ? String.valueOf(type) : String.format("\\x%02x", (int) type);
  }
}
