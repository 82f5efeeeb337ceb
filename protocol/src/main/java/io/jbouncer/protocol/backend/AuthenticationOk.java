package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.netty.buffer.ByteBuf;

/**
 * AuthenticationOk: the login succeeded. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONOK">AuthenticationOk</a>.
 */
public record AuthenticationOk() implements Authentication {
  static final String NAME = "AuthenticationOk";

  public static AuthenticationOk decode(ByteBuf frame) {
    return read(AuthCodes.body(frame, AuthCodes.OK, NAME));
  }

  static AuthenticationOk read(ByteBuf body) {
    Frames.requireEnd(body, NAME);
    return new AuthenticationOk();
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return AuthCodes.write(out, AuthCodes.OK);
  }
}
