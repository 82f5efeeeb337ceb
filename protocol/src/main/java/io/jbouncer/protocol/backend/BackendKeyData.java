package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;

/**
 * BackendKeyData: the process id and secret a client quotes in a CancelRequest. jbouncer speaks
 * protocol 3.0, where the secret is 4 bytes. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-BACKENDKEYDATA">BackendKeyData</a>.
 */
public record BackendKeyData(int processId, int secretKey) implements BackendMessage {
  public static final char TYPE = 'K';
  static final String NAME = "BackendKeyData";
  private static final int BODY_LENGTH = 8;

  /** Both halves as one value: the process id in the high 32 bits, the secret in the low. */
  public static BackendKeyData ofKey(long key) {
    return new BackendKeyData((int) (key >>> 32), (int) key);
  }

  public static BackendKeyData decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    if (body.readableBytes() != BODY_LENGTH) {
      throw new ProtocolException(
          NAME
              + " length: "
              + (body.readableBytes() + 4)
              + " (expected: "
              + (BODY_LENGTH + 4)
              + ")");
    }
    return new BackendKeyData(body.readInt(), body.readInt());
  }

  /** The process id in the high 32 bits, the secret in the low: the CancelRequest key. */
  public long key() {
    return (long) processId << 32 | secretKey & 0xffffffffL;
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          body.writeInt(processId);
          body.writeInt(secretKey);
        });
  }
}
