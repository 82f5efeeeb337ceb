package io.jbouncer.protocol;

/**
 * The peer broke the PostgreSQL wire protocol. The message names the bad value and what was
 * expected, for example {@code "startup packet length: 71234 (expected: <= 10000)"}; the connection
 * answers with ErrorResponse {@link SqlState#PROTOCOL_VIOLATION} and closes.
 */
public final class ProtocolException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ProtocolException(String message) {
    super(message, null, false, false);
  }
}
