package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * NegotiateProtocolVersion: the newest minor protocol version the server supports for the requested
 * major version, and the {@code _pq_.} options it did not recognize. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-NEGOTIATEPROTOCOLVERSION">NegotiateProtocolVersion</a>.
 */
public record NegotiateProtocolVersion(int newestMinor, List<String> unsupportedOptions)
    implements BackendMessage {
  public static final char TYPE = 'v';
  static final String NAME = "NegotiateProtocolVersion";

  public NegotiateProtocolVersion {
    unsupportedOptions = List.copyOf(unsupportedOptions);
  }

  public static NegotiateProtocolVersion decode(ByteBuf frame) {
    ByteBuf body = Frames.body(frame, TYPE);
    if (body.readableBytes() < 8) {
      throw new ProtocolException(
          NAME + " length: " + (body.readableBytes() + 4) + " (expected: >= 12)");
    }
    int newestMinor = body.readInt();
    int count = body.readInt();
    // each option takes at least its NUL: this bounds the count before anything is allocated
    if (count < 0 || count > body.readableBytes()) {
      throw new ProtocolException(
          NAME + " option count: " + count + " (expected: 0.." + body.readableBytes() + ")");
    }
    List<String> options = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      options.add(Frames.readCString(body));
    }
    Frames.requireEnd(body, NAME);
    return new NegotiateProtocolVersion(newestMinor, options);
  }

  @Override
  public ByteBuf encodeTo(ByteBuf out) {
    return Frames.write(
        out,
        TYPE,
        body -> {
          body.writeInt(newestMinor);
          body.writeInt(unsupportedOptions.size());
          for (String option : unsupportedOptions) {
            Frames.writeCString(body, option);
          }
        });
  }
}
