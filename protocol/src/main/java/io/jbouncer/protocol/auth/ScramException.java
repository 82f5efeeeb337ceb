package io.jbouncer.protocol.auth;

import io.jbouncer.protocol.SqlState;

/**
 * A SCRAM exchange failed: the peer sent a malformed or unsupported message, reported an error, or
 * could not prove it knows the password. {@link #getMessage} says which, with the bad value; on the
 * server side it is PgBouncer's log wording. See <a
 * href="https://www.postgresql.org/docs/current/sasl-authentication.html">SASL authentication</a>.
 *
 * <p>What the client is told is not the message: PgBouncer answers every failed SCRAM login,
 * whatever the {@link #kind}, with one error, {@code FATAL} {@value #CLIENT_SQLSTATE} {@value
 * #CLIENT_MESSAGE} ({@code client.c}: {@code disconnect_client(client, true, "SASL authentication
 * failed")}, which sends SQLSTATE 08P01 when none is given), and logs {@code closing because: SASL
 * authentication failed}. So a client cannot tell an unknown user from a wrong password, nor learn
 * which part of its message was refused.
 */
public final class ScramException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The SQLSTATE PgBouncer sends a client whose SCRAM login failed, for every {@link Kind}. */
  public static final String CLIENT_SQLSTATE = SqlState.PROTOCOL_VIOLATION;

  /** The text PgBouncer sends a client whose SCRAM login failed, for every {@link Kind}. */
  public static final String CLIENT_MESSAGE = "SASL authentication failed";

  /** Why the exchange failed. */
  public enum Kind {
    /**
     * The proof (or the server's signature) does not match: a wrong password, or an unknown user
     * going through the mock exchange. PgBouncer logs "password authentication failed".
     */
    AUTHENTICATION_FAILED,
    /**
     * The message breaks the SCRAM grammar or the exchange: a missing or misplaced attribute, bad
     * base64, a proof of the wrong length, a nonce or channel-binding value that does not match,
     * trailing garbage, an oversized message.
     */
    MALFORMED_MESSAGE,
    /**
     * A well-formed request for something jbouncer does not do: channel binding required ({@code
     * p=}), an authorization identity ({@code a=}), a mandatory extension ({@code m=}).
     */
    UNSUPPORTED
  }

  private final Kind kind;

  /** A {@link Kind#MALFORMED_MESSAGE} failure. */
  public ScramException(String message) {
    this(Kind.MALFORMED_MESSAGE, message);
  }

  public ScramException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  /** {@code true} for a wrong password or an unknown user, {@code false} for a refused message. */
  public boolean isAuthenticationFailure() {
    return kind == Kind.AUTHENTICATION_FAILED;
  }
}
