package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;

/**
 * An authentication request jbouncer does not speak: KerberosV5 (2), SCMCredential (6), GSS (7),
 * GSSContinue (8), SSPI (9) or a code PostgreSQL may add. Any data after the code is skipped, and
 * {@link #encodeTo} writes the code alone. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html">message formats</a>.
 */
public record AuthenticationUnsupported(int code) implements Authentication {
  public AuthenticationUnsupported {
    if (AuthCodes.isSupported(code)) {
      throw new IllegalArgumentException("authentication code " + code + " is supported");
    }
  }

  public static AuthenticationUnsupported decode(ByteBuf frame) {
    Authentication request = Authentication.decode(frame);
    if (request instanceof AuthenticationUnsupported unsupported) {
      return unsupported;
    }
    throw new ProtocolException(
        "authentication request: " + request + " (expected: an unsupported method)");
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return AuthCodes.write(out, code);
  }
}
