package io.jbouncer.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a stream of typed PostgreSQL messages into frames without modelling them: each emitted
 * {@link ByteBuf} is a retained slice of one whole frame, type byte and length included, ready to
 * be forwarded untouched. The receiver owns (and must release) each frame. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html">message formats</a>.
 *
 * <p>Frames longer than {@code maxFrameLength} and lengths below 4 are protocol violations: the
 * decoder throws {@link ProtocolException} (Netty wraps it in a {@code DecoderException}) and
 * discards everything it receives afterwards, since the stream can no longer be framed.
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {
  private final int maxFrameLength;
  private boolean failed;

  /**
   * @param maxFrameLength the largest length field accepted (it counts itself, not the type)
   */
  public PgFrameDecoder(int maxFrameLength) {
    this.maxFrameLength = maxFrameLength;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    while (in.readableBytes() >= Frames.HEADER_LENGTH) {
      int start = in.readerIndex();
      int length = in.getInt(start + 1);
      if (length < 4 || length > maxFrameLength) {
        char type = (char) in.getUnsignedByte(start);
        failed = true;
        in.skipBytes(in.readableBytes());
        throw new ProtocolException(
            "message '"
                + Frames.printable(type)
                + "' length: "
                + length
                + " (expected: 4.."
                + maxFrameLength
                + ")");
      }
      if (in.readableBytes() - 1 < length) { // not length + 1: it overflows at Integer.MAX_VALUE
        return;
      }
      out.add(in.readRetainedSlice(length + 1));
    }
  }
}
