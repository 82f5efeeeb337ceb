package io.jbouncer.auth;

import io.jbouncer.client.ClientConnection;
import io.jbouncer.config.AuthType;
import io.jbouncer.protocol.SqlState;
import io.jbouncer.protocol.auth.Md5Password;
import io.jbouncer.protocol.backend.AuthenticationCleartextPassword;
import io.jbouncer.protocol.backend.AuthenticationMd5Password;
import io.jbouncer.protocol.frontend.PasswordMessage;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import org.jspecify.annotations.Nullable;

/**
 * One client's authentication exchange, for the {@code auth_type} in force. Unknown users go
 * through the same exchange as known ones and fail with the same error (PgBouncer's mock
 * authentication), so the answer never tells whether a user exists. Secrets are compared in
 * constant time.
 *
 * <p>Runs on the client's event loop; one instance per login.
 */
public final class ClientAuthenticator {
  static final String PASSWORD_FAILED = "password authentication failed";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final AuthType authType;
  private final String user;
  private final @Nullable String secret;
  private byte @Nullable [] salt;
  private boolean awaitingPassword;

  public ClientAuthenticator(AuthType authType, String user, @Nullable String secret) {
    this.authType = authType;
    this.user = user;
    this.secret = secret;
  }

  /** Starts the exchange: either authenticates at once or asks the client for its password. */
  public void start(ClientConnection client) {
    switch (authType) {
      case ANY -> client.authenticated();
      case TRUST -> {
        if (secret == null) {
          client.fatal(
              SqlState.INVALID_AUTHORIZATION_SPECIFICATION, "\"trust\" authentication failed");
        } else {
          client.authenticated();
        }
      }
      case PLAIN -> {
        awaitingPassword = true;
        client.send(
            new AuthenticationCleartextPassword().encodeTo(client.channel().alloc().ioBuffer()));
      }
      case MD5 -> {
        byte[] s = new byte[4];
        RANDOM.nextBytes(s);
        salt = s;
        awaitingPassword = true;
        client.send(new AuthenticationMd5Password(s).encodeTo(client.channel().alloc().ioBuffer()));
      }
      default ->
          client.fatal(
              SqlState.FEATURE_NOT_SUPPORTED,
              "auth_type " + authType.iniName() + " is not supported yet");
    }
  }

  public boolean expectsPassword() {
    return awaitingPassword;
  }

  /** The client's PasswordMessage; the caller keeps ownership of {@code frame}. */
  public void onPassword(ClientConnection client, ByteBuf frame) {
    awaitingPassword = false;
    String password = PasswordMessage.decode(frame).password();
    boolean ok = authType == AuthType.MD5 ? checkMd5(password) : checkPlain(password);
    if (ok) {
      client.authenticated();
    } else {
      client.fatal(SqlState.INVALID_PASSWORD, PASSWORD_FAILED);
    }
  }

  private boolean checkPlain(String password) {
    if (secret == null || secret.isEmpty() || password.isEmpty()) {
      return false;
    }
    if (Secrets.isMd5(secret)) {
      return constantTimeEquals(Md5Password.encode(user, password), secret);
    }
    if (Secrets.isScram(secret)) {
      return false; // SCRAM secrets in auth_file arrive with SCRAM client authentication
    }
    return constantTimeEquals(password, secret);
  }

  private boolean checkMd5(String response) {
    if (secret == null || secret.isEmpty() || Secrets.isScram(secret) || salt == null) {
      return false;
    }
    String expected =
        Secrets.isMd5(secret)
            ? Md5Password.saltedResponse(secret, salt)
            : Md5Password.clientResponse(user, secret, salt);
    return constantTimeEquals(expected, response);
  }

  static boolean constantTimeEquals(String a, String b) {
    return MessageDigest.isEqual(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }
}
