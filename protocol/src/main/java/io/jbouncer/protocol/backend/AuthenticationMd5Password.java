package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;

/**
 * AuthenticationMD5Password: the server asks for the password hashed with this 4-byte salt. The
 * array is held as given, not copied: neither side may change it. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONMD5PASSWORD">AuthenticationMD5Password</a>.
 */
public record AuthenticationMd5Password(byte[] salt) implements Authentication {
  public static final int SALT_LENGTH = 4;
  static final String NAME = "AuthenticationMD5Password";

  public AuthenticationMd5Password {
    if (salt.length != SALT_LENGTH) {
      throw new IllegalArgumentException(
          "MD5 salt length: " + salt.length + " (expected: " + SALT_LENGTH + ")");
    }
  }

  public static AuthenticationMd5Password decode(ByteBuf frame) {
    return read(AuthCodes.body(frame, AuthCodes.MD5_PASSWORD, NAME));
  }

  static AuthenticationMd5Password read(ByteBuf body) {
    if (body.readableBytes() != SALT_LENGTH) {
      throw new ProtocolException(
          NAME + " salt length: " + body.readableBytes() + " (expected: " + SALT_LENGTH + ")");
    }
    byte[] salt = new byte[SALT_LENGTH];
    body.readBytes(salt);
    Frames.requireEnd(body, NAME);
    return new AuthenticationMd5Password(salt);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return AuthCodes.write(out, AuthCodes.MD5_PASSWORD, body -> body.writeBytes(salt));
  }
}
