package io.jbouncer.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/**
 * AuthenticationSASLFinal: the outcome of a SASL exchange (for SCRAM, the server-final-message).
 * The array is held as given, not copied: neither side may change it. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONSASLFINAL">AuthenticationSASLFinal</a>.
 */
public record AuthenticationSaslFinal(byte[] data) implements Authentication {
  static final String NAME = "AuthenticationSASLFinal";

  public static AuthenticationSaslFinal decode(ByteBuf frame) {
    return read(AuthCodes.body(frame, AuthCodes.SASL_FINAL, NAME));
  }

  static AuthenticationSaslFinal read(ByteBuf body) {
    return new AuthenticationSaslFinal(ByteBufUtil.getBytes(body));
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return AuthCodes.write(out, AuthCodes.SASL_FINAL, body -> body.writeBytes(data));
  }
}
