package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;

/**
 * AuthenticationCleartextPassword: the server asks for the password in clear. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONCLEARTEXTPASSWORD">AuthenticationCleartextPassword</a>.
 */
public record AuthenticationCleartextPassword() implements Authentication {
  static final String NAME = "AuthenticationCleartextPassword";

  public static AuthenticationCleartextPassword decode(ByteBuf frame) {
    return read(AuthCodes.body(frame, AuthCodes.CLEARTEXT_PASSWORD, NAME));
  }

  static AuthenticationCleartextPassword read(ByteBuf body) {
    Frames.requireEnd(body, NAME);
    return new AuthenticationCleartextPassword();
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return AuthCodes.write(out, AuthCodes.CLEARTEXT_PASSWORD);
  }
}
