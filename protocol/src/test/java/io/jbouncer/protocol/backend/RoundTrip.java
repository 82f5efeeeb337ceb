package io.jbouncer.protocol.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.jbouncer.testing.Wire;
import io.netty.buffer.ByteBuf;
import java.util.function.Function;

/** Checks a message against its exact bytes, both ways. */
final class RoundTrip {
  private RoundTrip() {}

  static <T extends BackendMessage> void check(
      T message, byte[] expected, Function<ByteBuf, T> decoder) {
    assertThat(Wire.hex(Wire.encode(message::encodeTo))).isEqualTo(Wire.hex(expected));
    T decoded = Wire.decode(expected, decoder);
    assertThat(decoded).usingRecursiveComparison().isEqualTo(message);
    assertThat(Wire.decode(expected, BackendMessage::decode))
        .usingRecursiveComparison()
        .isEqualTo(message);
    assertThat(Wire.hex(Wire.encode(decoded::encodeTo))).isEqualTo(Wire.hex(expected));
  }
}
