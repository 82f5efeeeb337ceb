package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;

/** The authentication request codes and the shared framing of the {@code R} messages. */
final class AuthCodes {
  static final int OK = 0;
  static final int CLEARTEXT_PASSWORD = 3;
  static final int MD5_PASSWORD = 5;
  static final int SASL = 10;
  static final int SASL_CONTINUE = 11;
  static final int SASL_FINAL = 12;

  private AuthCodes() {}

  static boolean isSupported(int code) {
    return switch (code) {
      case OK, CLEARTEXT_PASSWORD, MD5_PASSWORD, SASL, SASL_CONTINUE, SASL_FINAL -> true;
      default -> false;
    };
  }

  static int readCode(ByteBuf body) {
    if (body.readableBytes() < 4) {
      throw new ProtocolException(
          "authentication request: " + body.readableBytes() + " bytes (expected: >= 4)");
    }
    return body.readInt();
  }

  /** The body after the code of an {@code R} frame, checking the code is {@code expected}. */
  static ByteBuf body(ByteBuf frame, int expected, String name) {
    ByteBuf body = Frames.body(frame, Authentication.TYPE);
    int code = readCode(body);
    if (code != expected) {
      throw new ProtocolException(name + " code: " + code + " (expected: " + expected + ")");
    }
    return body;
  }

  static ByteBuf write(ByteBuf out, int code, Consumer<ByteBuf> rest) {
    return Frames.write(
        out,
        Authentication.TYPE,
        body -> {
          body.writeInt(code);
          rest.accept(body);
        });
  }

  static ByteBuf write(ByteBuf out, int code) {
    return Frames.write(out, Authentication.TYPE, body -> body.writeInt(code));
  }
}
