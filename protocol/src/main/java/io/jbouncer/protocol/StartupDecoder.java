package io.jbouncer.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes the untyped startup-phase packets into {@link StartupPacket}s. After it emits a {@link
 * StartupPacket.StartupMessage} it replaces itself with a {@link PgFrameDecoder}, which receives any
 * bytes that were already read; after a CancelRequest nothing more is decoded.
 */
public final class StartupDecoder extends ByteToMessageDecoder {
  /** PostgreSQL's own limit on a startup packet (MAX_STARTUP_PACKET_LENGTH). */
  public static final int MAX_STARTUP_PACKET_LENGTH = 10000;

  private final int maxFrameLength;
  private boolean done;

  /** @param maxFrameLength the limit handed to the {@link PgFrameDecoder} that follows */
  public StartupDecoder(int maxFrameLength) {
    this.maxFrameLength = maxFrameLength;
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
    if (length < 8 || length > MAX_STARTUP_PACKET_LENGTH) {
      done = true;
      in.skipBytes(in.readableBytes());
      throw new ProtocolException(
          "startup packet length: " + length + " (expected: 8.." + MAX_STARTUP_PACKET_LENGTH + ")");
    }
    if (in.readableBytes() < length) {
      return;
    }
    ByteBuf packet = in.readSlice(length).skipBytes(4);
    int code = packet.readInt();
    switch (code) {
      case StartupPacket.SSL_REQUEST_CODE -> out.add(new StartupPacket.SslRequest());
      case StartupPacket.GSSENC_REQUEST_CODE -> out.add(new StartupPacket.GssEncRequest());
      case StartupPacket.CANCEL_REQUEST_CODE -> {
        if (packet.readableBytes() != 8) {
          done = true;
          throw new ProtocolException(
              "cancel request length: " + length + " (expected: 16)");
        }
        done = true;
        out.add(new StartupPacket.CancelRequest(packet.readLong()));
      }
      default -> {
        out.add(new StartupPacket.StartupMessage(code, readParameters(packet, code)));
        done = true;
        ctx.pipeline().replace(this, "frameDecoder", new PgFrameDecoder(maxFrameLength));
      }
    }
  }

  private static Map<String, String> readParameters(ByteBuf packet, int code) {
    Map<String, String> parameters = new LinkedHashMap<>();
    if (code >>> 16 != 3) {
      return parameters; // not ours to parse: the caller rejects the version
    }
    while (packet.isReadable()) {
      String key = Frames.readCString(packet);
      if (key.isEmpty()) {
        if (packet.isReadable()) {
          throw new ProtocolException("startup packet: " + packet.readableBytes() + " bytes after the terminator (expected: 0)");
        }
        return parameters;
      }
      parameters.put(key, Frames.readCString(packet));
    }
    throw new ProtocolException("startup packet: missing terminator after the parameters");
  }
}
