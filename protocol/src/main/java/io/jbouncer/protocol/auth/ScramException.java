package io.jbouncer.protocol.auth;

/**
 * A SCRAM exchange failed: the server sent a malformed or unacceptable message, reported an error,
 * or could not prove it knows the password. The message says which, with the bad value. See <a
 * href="https://www.postgresql.org/docs/current/sasl-authentication.html">SASL authentication</a>.
 */
public final class ScramException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ScramException(String message) {
    super(message);
  }
}
