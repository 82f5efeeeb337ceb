package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.StartupPacket;
import io.netty.buffer.ByteBuf;

/**
 * CancelRequest: sent on a new connection to cancel the query running on the connection that {@code
 * processId} and {@code secretKey} identify (from its BackendKeyData). Untyped, 16 bytes; the
 * {@link io.jbouncer.protocol.StartupDecoder} reads these. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-CANCELREQUEST">CancelRequest</a>.
 */
public record CancelRequest(int processId, int secretKey) implements FrontendMessage {
  /**
   * The process id in the high 32 bits, the secret in the low, as in {@link
   * StartupPacket.CancelRequest}.
   */
  public static CancelRequest ofKey(long key) {
    return new CancelRequest((int) (key >>> 32), (int) key);
  }

  /** The process id in the high 32 bits, the secret in the low. */
  public long key() {
    return (long) processId << 32 | secretKey & 0xffffffffL;
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.writeUntyped(
        out,
        body -> {
          body.writeInt(StartupPacket.CANCEL_REQUEST_CODE);
          body.writeInt(processId);
          body.writeInt(secretKey);
        });
  }
}
