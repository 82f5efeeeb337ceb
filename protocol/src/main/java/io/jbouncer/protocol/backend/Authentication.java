package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;

/**
 * The {@code R} messages: the server's authentication requests and its final {@link
 * AuthenticationOk}. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html">message formats</a>.
 */
public sealed interface Authentication extends BackendMessage
    permits AuthenticationOk,
        AuthenticationCleartextPassword,
        AuthenticationMd5Password,
        AuthenticationSasl,
        AuthenticationSaslContinue,
        AuthenticationSaslFinal,
        AuthenticationUnsupported {
  char TYPE = 'R';

  /**
   * Decodes any {@code R} frame; the methods jbouncer does not speak (Kerberos, GSS, SSPI, ...)
   * become {@link AuthenticationUnsupported}. The frame's indexes do not move.
   *
   * @throws ProtocolException if the frame is malformed
   */
  static Authentication decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    int code = AuthCodes.readCode(body);
    return switch (code) {
      case AuthCodes.OK -> AuthenticationOk.read(body);
      case AuthCodes.CLEARTEXT_PASSWORD -> AuthenticationCleartextPassword.read(body);
      case AuthCodes.MD5_PASSWORD -> AuthenticationMd5Password.read(body);
      case AuthCodes.SASL -> AuthenticationSasl.read(body);
      case AuthCodes.SASL_CONTINUE -> AuthenticationSaslContinue.read(body);
      case AuthCodes.SASL_FINAL -> AuthenticationSaslFinal.read(body);
      default -> new AuthenticationUnsupported(code); // any data that follows is not ours to read
    };
  }
}
