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
 * <p>Large frames need not be held whole: with a {@code streamThreshold}, a frame longer than that
 * which has not fully arrived is emitted in pieces as its bytes come in, as PgBouncer forwards
 * packets larger than its {@code pkt_buf}: first the bytes so far (type and length included), then
 * {@link FrameContinuation}s up to its end. Frame types the receiver must read whole (named in
 * {@code keepWhole}) are always held until complete, up to {@code maxFrameLength}.
 *
 * <p>Frames longer than {@code maxFrameLength} and lengths below 4 are protocol violations: the
 * decoder throws {@link ProtocolException} (Netty wraps it in a {@code DecoderException}) and
 * discards everything it receives afterwards, since the stream can no longer be framed.
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {
  private final int maxFrameLength;
  private final int streamThreshold;
  private final boolean[] keepWhole = new boolean[256];
  private int streamRemaining; // bytes of the frame being streamed that have not arrived yet
  private boolean failed;

  /**
   * A decoder that emits whole frames only.
   *
   * @param maxFrameLength the largest length field accepted (it counts itself, not the type)
   */
  public PgFrameDecoder(int maxFrameLength) {
    this(maxFrameLength, 0, "");
  }

  /**
   * @param maxFrameLength the largest length field accepted (it counts itself, not the type)
   * @param streamThreshold frames with a longer length field are emitted in pieces as they arrive,
   *     unless their type is in {@code keepWhole}; 0 = never
   * @param keepWhole the type bytes of frames always emitted whole
   */
  public PgFrameDecoder(int maxFrameLength, int streamThreshold, String keepWhole) {
    this.maxFrameLength = maxFrameLength;
    this.streamThreshold = streamThreshold;
    for (int i = 0; i < keepWhole.length(); i++) {
      this.keepWhole[keepWhole.charAt(i) & 0xff] = true;
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (streamRemaining > 0) {
      int piece = Math.min(in.readableBytes(), streamRemaining);
      if (piece == 0) {
        return;
      }
      streamRemaining -= piece;
      out.add(new FrameContinuation(in.readRetainedSlice(piece)));
    }
    while (in.readableBytes() >= Frames.HEADER_LENGTH) {
      int start = in.readerIndex();
      int type = in.getUnsignedByte(start);
      int length = in.getInt(start + 1);
      if (length < 4 || length > maxFrameLength) {
        failed = true;
        in.skipBytes(in.readableBytes());
        throw new ProtocolException(
            "message '"
                + Frames.printable((char) type)
                + "' length: "
                + length
                + " (expected: 4.."
                + maxFrameLength
                + ")");
      }
      int available = in.readableBytes();
      if (available - 1 >= length) { // not length + 1: it overflows at Integer.MAX_VALUE
        out.add(in.readRetainedSlice(length + 1));
        continue;
      }
      if (streamThreshold > 0 && length > streamThreshold && !keepWhole[type]) {
        streamRemaining = length - (available - 1);
        out.add(in.readRetainedSlice(available)); // the first piece: type, length, body so far
      }
      return;
    }
  }
}
