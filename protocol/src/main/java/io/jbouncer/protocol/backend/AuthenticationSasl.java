package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * AuthenticationSASL: the server offers these SASL mechanisms, in its order of preference. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-AUTHENTICATIONSASL">AuthenticationSASL</a>.
 */
public record AuthenticationSasl(List<String> mechanisms) implements Authentication {
  static final String NAME = "AuthenticationSASL";

  public AuthenticationSasl {
    mechanisms = List.copyOf(mechanisms);
    if (mechanisms.contains("")) {
      throw new IllegalArgumentException("empty mechanism name in " + mechanisms);
    }
  }

  public static AuthenticationSasl decode(ByteBuf frame) {
    return read(AuthCodes.body(frame, AuthCodes.SASL, NAME));
  }

  static AuthenticationSasl read(ByteBuf body) {
    List<String> mechanisms = new ArrayList<>();
    while (body.isReadable()) {
      String mechanism = Frames.readCString(body);
      if (mechanism.isEmpty()) {
        Frames.requireEnd(body, NAME);
        return new AuthenticationSasl(mechanisms);
      }
      mechanisms.add(mechanism);
    }
    throw new ProtocolException(NAME + ": missing terminator after the mechanisms");
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return AuthCodes.write(
        out,
        AuthCodes.SASL,
        body -> {
          for (String mechanism : mechanisms) {
            Frames.writeCString(body, mechanism);
          }
          body.writeByte(0);
        });
  }
}
