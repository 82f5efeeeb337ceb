package io.jbouncer.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Byte-level helpers for codec tests. Buffers come from the pooled allocator, so leaks show. */
public final class Wire {
  private Wire() {}

  /**
   * Concatenates wire values: a {@link Character} is one byte, an {@link Integer} four
   * (big-endian), a {@link String} its UTF-8 bytes (write NULs as {@code \0}), a {@code byte[]}
   * itself.
   */
  public static byte[] bytes(Object... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object part : parts) {
      if (part instanceof Character c) {
        out.write(c);
      } else if (part instanceof Integer i) {
        out.write(i >>> 24);
        out.write(i >>> 16);
        out.write(i >>> 8);
        out.write(i);
      } else if (part instanceof String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      } else if (part instanceof byte[] b) {
        out.writeBytes(b);
      } else {
        throw new IllegalArgumentException("not a wire value: " + part);
      }
    }
    return out.toByteArray();
  }

  /** A pooled buffer holding {@code bytes}; the receiver releases it. */
  public static ByteBuf buf(byte[] bytes) {
    return PooledByteBufAllocator.DEFAULT.buffer(bytes.length).writeBytes(bytes);
  }

  /** What {@code encodeTo} writes into an empty buffer (which it must return). */
  public static byte[] encode(Function<ByteBuf, ByteBuf> encodeTo) {
    ByteBuf out = PooledByteBufAllocator.DEFAULT.buffer();
    try {
      assertThat(encodeTo.apply(out)).isSameAs(out);
      return ByteBufUtil.getBytes(out);
    } finally {
      out.release();
    }
  }

  /**
   * Decodes {@code frame} placed after other bytes in a pooled buffer, checking that the decoder
   * leaves the buffer's indexes where they were.
   */
  public static <T> T decode(byte[] frame, Function<ByteBuf, T> decoder) {
    ByteBuf in = PooledByteBufAllocator.DEFAULT.buffer(frame.length + 3);
    try {
      in.writeBytes(new byte[] {7, 7, 7}).writeBytes(frame).skipBytes(3);
      T message = decoder.apply(in);
      assertThat(in.readerIndex()).as("reader index").isEqualTo(3);
      assertThat(in.writerIndex()).as("writer index").isEqualTo(3 + frame.length);
      return message;
    } finally {
      in.release();
    }
  }

  /** The hex dump of {@code bytes}, for readable assertion failures. */
  public static String hex(byte[] bytes) {
    return ByteBufUtil.hexDump(bytes);
  }

  /** Takes every inbound message; the caller releases them ({@link #release}). */
  public static List<Object> readInbound(EmbeddedChannel channel) {
    List<Object> messages = new ArrayList<>();
    for (Object message; (message = channel.readInbound()) != null; ) {
      messages.add(message);
    }
    return messages;
  }

  /** Takes every inbound frame as bytes, releasing each. */
  public static List<byte[]> readInboundBytes(EmbeddedChannel channel) {
    List<byte[]> frames = new ArrayList<>();
    for (Object message : readInbound(channel)) {
      ByteBuf frame = (ByteBuf) message;
      frames.add(ByteBufUtil.getBytes(frame));
      frame.release();
    }
    return frames;
  }

  public static void release(List<?> messages) {
    messages.forEach(ReferenceCountUtil::release);
  }
}
