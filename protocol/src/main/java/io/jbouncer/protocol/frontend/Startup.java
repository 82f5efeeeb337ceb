package io.jbouncer.protocol.frontend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.StartupPacket;
import io.netty.buffer.ByteBuf;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * StartupMessage for protocol 3.0 with its parameters ({@code user}, {@code database}, ...) in the
 * given order. Untyped, so there is no {@code decode}: the {@link
 * io.jbouncer.protocol.StartupDecoder} reads these. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-STARTUPMESSAGE">StartupMessage</a>.
 */
public record Startup(Map<String, String> parameters) implements FrontendMessage {
  public Startup {
    Map<String, String> copy = new LinkedHashMap<>(parameters);
    if (copy.containsKey("")) {
      throw new IllegalArgumentException("empty parameter name: it would end the parameter list");
    }
    parameters = Collections.unmodifiableMap(copy);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.writeUntyped(
        out,
        body -> {
          body.writeInt(StartupPacket.PROTOCOL_3_0);
          parameters.forEach(
              (name, value) -> {
                Frames.writeCString(body, name);
                Frames.writeCString(body, value);
              });
          body.writeByte(0);
        });
  }
}
