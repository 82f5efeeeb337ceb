package io.jbouncer.protocol.frontend;

import io.netty.buffer.ByteBuf;

/**
 * A client message jbouncer models. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html">message formats</a>.
 */
public sealed interface FrontendMessage
    permits Bind,
        CancelRequest,
        Describe,
        Execute,
        Flush,
        Parse,
        PasswordMessage,
        Query,
        SaslInitialResponse,
        SaslResponse,
        Startup,
        Sync,
        Terminate {

  /**
   * Writes the whole packet, type byte (if it has one) and length included; returns {@code out}.
   */
  ByteBuf encodeTo(ByteBuf out);
}
