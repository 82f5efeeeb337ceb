package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;

/**
 * PasswordMessage: the answer to a cleartext or MD5 password request, a NUL-terminated string in
 * {@code payload}. The array is held as given, not copied: neither side may change it. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-PASSWORDMESSAGE">PasswordMessage</a>.
 */
public record PasswordMessage(byte[] payload) implements FrontendMessage {
  public static final char TYPE = 'p';
  static final String NAME = "PasswordMessage";

  /** The message carrying {@code password} (in clear, or an MD5 response) NUL-terminated. */
  public static PasswordMessage ofPassword(String password) {
    if (password.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("password contains NUL");
    }
    byte[] text = password.getBytes(StandardCharsets.UTF_8);
    byte[] payload = new byte[text.length + 1];
    System.arraycopy(text, 0, payload, 0, text.length);
    return new PasswordMessage(payload);
  }

  /** Reads any {@code p} frame's body as a PasswordMessage; {@link #password()} checks it. */
  public static PasswordMessage decode(ByteBuf frame) {
    return new PasswordMessage(ByteBufUtil.getBytes(Frames.body(frame, TYPE)));
  }

  /**
   * The password (or MD5 response) without its terminating NUL.
   *
   * @throws ProtocolException unless the payload holds exactly one NUL, at its end (the check
   *     PostgreSQL makes: "invalid password packet size")
   */
  public String password() {
    int end = payload.length - 1;
    if (end < 0 || payload[end] != 0) {
      throw new ProtocolException(
          NAME + ": missing terminating NUL in " + payload.length + " bytes");
    }
    for (int i = 0; i < end; i++) {
      if (payload[i] == 0) {
        throw new ProtocolException(
            NAME + ": NUL at index " + i + " (expected: only at the end, index " + end + ")");
      }
    }
    return new String(payload, 0, end, StandardCharsets.UTF_8);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(out, TYPE, body -> body.writeBytes(payload));
  }
}
