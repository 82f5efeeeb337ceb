package io.jbouncer.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Decodes the untyped startup-phase packets into {@link StartupPacket}s. After it emits a {@link
 * StartupPacket.StartupMessage} it replaces itself with a {@link PgFrameDecoder}, which receives
 * any bytes that were already read; after a CancelRequest nothing more is decoded. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html">message formats</a>.
 *
 * <p>A client must wait for the answer to SSLRequest or GSSENCRequest before it sends anything
 * else, so bytes already buffered behind either request are rejected (as PostgreSQL does since
 * CVE-2021-23214): they arrived unencrypted and could have been injected. Any {@link
 * ProtocolException} leaves the decoder discarding all further input.
 */
public final class StartupDecoder extends ByteToMessageDecoder {
  /** PostgreSQL's own limit on a startup packet (MAX_STARTUP_PACKET_LENGTH). */
  public static final int MAX_STARTUP_PACKET_LENGTH = 10000;

  private static final int MIN_PACKET_LENGTH = 8;
  private static final int CANCEL_REQUEST_LENGTH = 16;

  private final Supplier<PgFrameDecoder> frameDecoder;
  private boolean done;

  /**
   * @param maxFrameLength the limit handed to the {@link PgFrameDecoder} that follows
   */
  public StartupDecoder(int maxFrameLength) {
    this(() -> new PgFrameDecoder(maxFrameLength));
  }

  /**
   * @param frameDecoder makes the decoder that takes over after the StartupMessage
   */
  public StartupDecoder(Supplier<PgFrameDecoder> frameDecoder) {
    this.frameDecoder = frameDecoder;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (done) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (in.readableBytes() < 4) {
      return;
    }
    int length = in.getInt(in.readerIndex());
    if (length < MIN_PACKET_LENGTH || length > MAX_STARTUP_PACKET_LENGTH) {
      throw fail(
          in,
          "startup packet length: "
              + length
              + " (expected: "
              + MIN_PACKET_LENGTH
              + ".."
              + MAX_STARTUP_PACKET_LENGTH
              + ")");
    }
    if (in.readableBytes() < length) {
      return;
    }
    ByteBuf packet = in.readSlice(length).skipBytes(4);
    int code = packet.readInt();
    switch (code) {
      case StartupPacket.SSL_REQUEST_CODE -> {
        requireNothingBuffered(in, "SSL request");
        out.add(new StartupPacket.SslRequest());
      }
      case StartupPacket.GSSENC_REQUEST_CODE -> {
        requireNothingBuffered(in, "GSSAPI encryption request");
        out.add(new StartupPacket.GssEncRequest());
      }
      case StartupPacket.CANCEL_REQUEST_CODE -> {
        if (length != CANCEL_REQUEST_LENGTH) {
          throw fail(
              in,
              "cancel request length: " + length + " (expected: " + CANCEL_REQUEST_LENGTH + ")");
        }
        done = true;
        out.add(new StartupPacket.CancelRequest(packet.readLong()));
      }
      default -> {
        Map<String, String> parameters;
        try {
          parameters = readParameters(packet, code);
        } catch (ProtocolException e) {
          throw fail(in, e.getMessage());
        }
        done = true;
        out.add(new StartupPacket.StartupMessage(code, Collections.unmodifiableMap(parameters)));
        // ByteToMessageDecoder hands the bytes still buffered to the new decoder once we return.
        ctx.pipeline().replace(this, "frameDecoder", frameDecoder.get());
      }
    }
  }

  private void requireNothingBuffered(ByteBuf in, String request) {
    if (in.isReadable()) {
      throw fail(
          in,
          "received unencrypted data after "
              + request
              + ": "
              + in.readableBytes()
              + " bytes (expected: 0)");
    }
  }

  private ProtocolException fail(ByteBuf in, String message) {
    done = true;
    in.skipBytes(in.readableBytes());
    return new ProtocolException(message);
  }

  private static Map<String, String> readParameters(ByteBuf packet, int code) {
    Map<String, String> parameters = new LinkedHashMap<>();
    if (code >>> 16 != 3) {
      return parameters; // not ours to parse: the caller rejects the version
    }
    while (packet.isReadable()) {
      String key = Frames.readCString(packet);
      if (key.isEmpty()) {
        Frames.requireEnd(packet, "startup packet terminator");
        return parameters;
      }
      parameters.put(key, Frames.readCString(packet));
    }
    throw new ProtocolException("startup packet: missing terminator after the parameters");
  }
}
