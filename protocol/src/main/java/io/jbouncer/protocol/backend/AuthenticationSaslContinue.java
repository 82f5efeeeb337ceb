package io.jbouncer.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/**
 * AuthenticationSASLContinue: a SASL challenge (for SCRAM, the server-first-message). The array is
 * held as given, not copied: neither side may change it. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONSASLCONTINUE">AuthenticationSASLContinue</a>.
 */
public record AuthenticationSaslContinue(byte[] data) implements Authentication {
  static final String NAME = "AuthenticationSASLContinue";

  public static AuthenticationSaslContinue decode(ByteBuf frame) {
    return read(AuthCodes.body(frame, AuthCodes.SASL_CONTINUE, NAME));
  }

  static AuthenticationSaslContinue read(ByteBuf body) {
    return new AuthenticationSaslContinue(ByteBufUtil.getBytes(body));
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return AuthCodes.write(out, AuthCodes.SASL_CONTINUE, body -> body.writeBytes(data));
  }
}
