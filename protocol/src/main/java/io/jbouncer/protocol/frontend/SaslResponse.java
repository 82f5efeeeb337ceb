package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/**
 * SASLResponse: a further SASL message from the client (for SCRAM, the client-final-message). The
 * array is held as given, not copied: neither side may change it. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-SASLRESPONSE">SASLResponse</a>.
 */
public record SaslResponse(byte[] data) implements FrontendMessage {
  public static final char TYPE = 'p';

  public static SaslResponse decode(ByteBuf frame) {
    return new SaslResponse(ByteBufUtil.getBytes(Frames.body(frame, TYPE)));
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(out, TYPE, body -> body.writeBytes(data));
  }
}
