package io.jbouncer.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.WrappedByteBuf;

/**
 * The next bytes of a frame that {@link PgFrameDecoder} forwards as they arrive because it is too
 * large to hold whole. The frame's first piece is an ordinary frame buffer (type byte and length
 * first, then as much body as had arrived); the pieces that follow are continuations: raw body
 * bytes with no type byte, to be forwarded after it, in order, untouched. {@link Frames#type} must
 * not be asked of a continuation.
 *
 * <p>A continuation owns the slice it wraps: releasing it releases the slice.
 */
public final class FrameContinuation extends WrappedByteBuf {
  FrameContinuation(ByteBuf piece) {
    super(piece);
  }
}
