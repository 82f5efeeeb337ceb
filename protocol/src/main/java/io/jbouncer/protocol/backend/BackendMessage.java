package io.jbouncer.protocol.backend;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * A server message jbouncer models; everything else is forwarded as a frame. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html">message formats</a>.
 */
public sealed interface BackendMessage
    permits Authentication,
        BackendKeyData,
        CommandComplete,
        DataRow,
        ErrorResponse,
        NegotiateProtocolVersion,
        NoticeResponse,
        ParameterStatus,
        ReadyForQuery,
        RowDescription {

  /** Writes the whole frame, type byte and length included, and returns {@code out}. */
  ByteBuf encodeTo(ByteBuf out);

  /**
   * Decodes a frame of a modelled type; {@code null} for the types jbouncer only forwards ({@code
   * D}, {@code T}, ...). The frame's indexes do not move.
   *
   * @throws ProtocolException if the frame is malformed
   */
  static @Nullable BackendMessage decode(ByteBuf frame) {
    return switch (Frames.type(frame)) {
      case ReadyForQuery.TYPE -> ReadyForQuery.decode(frame);
      case ErrorResponse.TYPE -> ErrorResponse.decode(frame);
      case NoticeResponse.TYPE -> NoticeResponse.decode(frame);
      case ParameterStatus.TYPE -> ParameterStatus.decode(frame);
      case CommandComplete.TYPE -> CommandComplete.decode(frame);
      case Authentication.TYPE -> Authentication.decode(frame);
      case BackendKeyData.TYPE -> BackendKeyData.decode(frame);
      case NegotiateProtocolVersion.TYPE -> NegotiateProtocolVersion.decode(frame);
      default -> null;
    };
  }
}
