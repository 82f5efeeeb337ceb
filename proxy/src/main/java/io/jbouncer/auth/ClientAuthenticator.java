package io.jbouncer.auth;

import io.jbouncer.Pooler;
import io.jbouncer.client.ClientConnection;
import io.jbouncer.config.AuthType;
import io.jbouncer.protocol.SqlState;
import io.jbouncer.protocol.auth.Md5Password;
import io.jbouncer.protocol.auth.ScramException;
import io.jbouncer.protocol.auth.ScramSecret;
import io.jbouncer.protocol.auth.ScramServer;
import io.jbouncer.protocol.auth.ScramSha256;
import io.jbouncer.protocol.backend.AuthenticationCleartextPassword;
import io.jbouncer.protocol.backend.AuthenticationMd5Password;
import io.jbouncer.protocol.backend.AuthenticationSasl;
import io.jbouncer.protocol.backend.AuthenticationSaslContinue;
import io.jbouncer.protocol.backend.AuthenticationSaslFinal;
import io.jbouncer.protocol.frontend.PasswordMessage;
import io.jbouncer.protocol.frontend.SaslInitialResponse;
import io.jbouncer.protocol.frontend.SaslResponse;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * One client's authentication exchange. The method follows PgBouncer: {@code auth_type} (or the
 * matching hba rule) and the stored secret decide; {@code md5} with a SCRAM secret switches to
 * SCRAM. Unknown users go through the same exchange as known ones and fail with the same error
 * (PgBouncer's mock authentication), so the answer never tells whether a user exists. Secrets are
 * compared in constant time.
 *
 * <p>Runs on the client's event loop; PBKDF2 (milliseconds of CPU) runs on an auth worker and the
 * exchange continues on the loop when it is done. One instance per login.
 */
public final class ClientAuthenticator {
  static final String PASSWORD_FAILED = "password authentication failed";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The exchange to run; hba rules and auth_type map onto these. */
  public enum Method {
    ANY,
    TRUST,
    REJECT,
    PASSWORD,
    MD5,
    SCRAM
  }

  private enum Expecting {
    NOTHING,
    PASSWORD,
    SASL_INITIAL,
    SASL_RESPONSE
  }

  private final Pooler pooler;
  private final Method method;
  private final String user;
  private final @Nullable String secret;
  private byte @Nullable [] salt;
  private @Nullable ScramServer scram;
  private Expecting expecting = Expecting.NOTHING;

  public ClientAuthenticator(Pooler pooler, Method method, String user, @Nullable String secret) {
    this.pooler = pooler;
    this.method = method;
    this.user = user;
    this.secret = secret;
  }

  /** The method for {@code authType} and the stored secret, as PgBouncer picks it. */
  public static Method methodFor(AuthType authType, @Nullable String secret) {
    return switch (authType) {
      case ANY -> Method.ANY;
      case TRUST -> Method.TRUST;
      case PLAIN -> Method.PASSWORD;
      case MD5 -> secret != null && Secrets.isScram(secret) ? Method.SCRAM : Method.MD5;
      case SCRAM_SHA_256 -> Method.SCRAM;
      default -> throw new IllegalArgumentException("auth_type " + authType.iniName());
    };
  }

  /** Starts the exchange: either decides at once or asks the client for its password. */
  public void start(ClientConnection client) {
    switch (method) {
      case ANY -> client.authenticated();
      case TRUST -> {
        if (secret == null) {
          client.fatal(
              SqlState.INVALID_AUTHORIZATION_SPECIFICATION, "\"trust\" authentication failed");
        } else {
          client.authenticated();
        }
      }
      case REJECT -> client.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION, "login rejected");
      case PASSWORD -> {
        expecting = Expecting.PASSWORD;
        client.send(
            new AuthenticationCleartextPassword().encodeTo(client.channel().alloc().ioBuffer()));
      }
      case MD5 -> {
        byte[] s = new byte[4];
        RANDOM.nextBytes(s);
        salt = s;
        expecting = Expecting.PASSWORD;
        client.send(new AuthenticationMd5Password(s).encodeTo(client.channel().alloc().ioBuffer()));
      }
      case SCRAM -> {
        expecting = Expecting.SASL_INITIAL;
        client.send(
            new AuthenticationSasl(List.of(ScramSha256.MECHANISM))
                .encodeTo(client.channel().alloc().ioBuffer()));
      }
    }
  }

  /** True while the next client message must be a password or SASL message. */
  public boolean expectsPassword() {
    return expecting != Expecting.NOTHING;
  }

  /** A PasswordMessage or SASL message from the client; the caller keeps ownership of it. */
  public void onPassword(ClientConnection client, ByteBuf frame) {
    Expecting was = expecting;
    expecting = Expecting.NOTHING;
    switch (was) {
      case PASSWORD -> onCleartextOrMd5(client, PasswordMessage.decode(frame).password());
      case SASL_INITIAL -> onSaslInitial(client, SaslInitialResponse.decode(frame));
      case SASL_RESPONSE -> onSaslResponse(client, SaslResponse.decode(frame).data());
      case NOTHING -> throw new IllegalStateException("no password expected");
    }
  }

  // --- cleartext and md5 ---

  private void onCleartextOrMd5(ClientConnection client, String password) {
    if (method == Method.MD5) {
      finish(client, checkMd5(password), SqlState.INVALID_PASSWORD, PASSWORD_FAILED);
    } else if (secret != null && Secrets.isScram(secret) && !password.isEmpty()) {
      ScramSecret stored = ScramSecret.parse(secret);
      if (stored == null) {
        finish(client, false, SqlState.INVALID_PASSWORD, PASSWORD_FAILED);
        return;
      }
      offLoop(
          client,
          () -> checkPasswordAgainstScram(password, stored),
          ok -> finish(client, ok, SqlState.INVALID_PASSWORD, PASSWORD_FAILED));
    } else {
      finish(client, checkPlain(password), SqlState.INVALID_PASSWORD, PASSWORD_FAILED);
    }
  }

  private boolean checkPlain(String password) {
    if (secret == null || secret.isEmpty() || password.isEmpty()) {
      return false;
    }
    if (Secrets.isMd5(secret)) {
      return constantTimeEquals(Md5Password.encode(user, password), secret);
    }
    return constantTimeEquals(password, secret);
  }

  /** Runs on an auth worker: PBKDF2 with the secret's salt; remembers pass-through keys. */
  private boolean checkPasswordAgainstScram(String password, ScramSecret stored) {
    byte[] prepared = ScramSha256.saslPrep(password);
    ScramCache cache = pooler.scramCache();
    byte[] salted = cache.saltedPasswordUncached(prepared, stored.salt(), stored.iterations());
    byte[] clientKey = ScramSha256.clientKey(salted);
    boolean ok =
        ScramSha256.constantTimeEquals(ScramSha256.storedKey(clientKey), stored.storedKey());
    if (ok) {
      cache.remember(prepared, stored.salt(), stored.iterations(), salted);
      pooler.rememberPassthroughKeys(
          user, new PassthroughKeys(secret, clientKey, ScramSha256.serverKey(salted)));
    }
    return ok;
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

  // --- SCRAM-SHA-256 ---

  private void onSaslInitial(ClientConnection client, SaslInitialResponse initial) {
    if (!ScramSha256.MECHANISM.equals(initial.mechanism())) {
      client.fatal(SqlState.PROTOCOL_VIOLATION, ScramServer.INVALID_MECHANISM_MESSAGE);
      return;
    }
    byte[] clientFirst = initial.data() != null ? initial.data() : new byte[0];
    offLoop(
        client,
        this::scramServer,
        server -> {
          scram = server;
          try {
            byte[] serverFirst = server.serverFirstMessage(clientFirst);
            expecting = Expecting.SASL_RESPONSE;
            client.send(
                new AuthenticationSaslContinue(serverFirst)
                    .encodeTo(client.channel().alloc().ioBuffer()));
          } catch (ScramException e) {
            scramFailed(client, e);
          }
        });
  }

  /**
   * The exchange for this user: the stored SCRAM secret; for a plain-text password an ad-hoc secret
   * derived once per user and cached; for unknown users and MD5 hashes a mock that always fails.
   * Runs on an auth worker (the ad-hoc secret costs PBKDF2 the first time).
   */
  private ScramServer scramServer() {
    if (secret != null && !secret.isEmpty()) {
      if (Secrets.isScram(secret)) {
        ScramSecret stored = ScramSecret.parse(secret);
        if (stored != null) {
          return ScramServer.forSecret(stored);
        }
      } else if (Secrets.isPlain(secret)) {
        return ScramServer.forSecret(
            pooler.scramCache().adhocSecret(user, secret, pooler.settings().scramIterations()));
      }
    }
    return ScramServer.mock(user, pooler.mockScramKey(), pooler.settings().scramIterations());
  }

  private void onSaslResponse(ClientConnection client, byte[] clientFinal) {
    ScramServer server = scram;
    if (server == null) {
      throw new IllegalStateException("SASL response before SASL initial response");
    }
    byte[] serverFinal;
    try {
      serverFinal = server.serverFinalMessage(clientFinal);
    } catch (ScramException e) {
      scramFailed(client, e);
      return;
    }
    byte[] clientKey = server.clientKey();
    if (secret != null && Secrets.isScram(secret) && clientKey != null) {
      ScramSecret stored = ScramSecret.parse(secret);
      if (stored != null) {
        pooler.rememberPassthroughKeys(
            user, new PassthroughKeys(secret, clientKey, stored.serverKey()));
      }
    }
    client.send(
        new AuthenticationSaslFinal(serverFinal).encodeTo(client.channel().alloc().ioBuffer()));
    client.authenticated();
  }

  /**
   * Every SCRAM failure looks the same to the client, wrong password, unknown user or malformed
   * message alike; the log gets the reason. PgBouncer sends 08P01 here; we send 28P01 as PostgreSQL
   * does, which drivers report as a wrong password.
   */
  private void scramFailed(ClientConnection client, ScramException e) {
    client.logAuthFailure("SCRAM " + e.kind() + ": " + e.getMessage());
    client.fatal(SqlState.INVALID_PASSWORD, ScramException.CLIENT_MESSAGE);
  }

  // --- helpers ---

  private void finish(ClientConnection client, boolean ok, String sqlState, String message) {
    if (ok) {
      client.authenticated();
    } else {
      client.fatal(sqlState, message);
    }
  }

  /** Runs {@code work} on an auth worker and {@code then} with its result on the client's loop. */
  private <T> void offLoop(ClientConnection client, Supplier<T> work, Consumer<T> then) {
    EventLoop loop = client.eventLoop();
    pooler
        .authWorkers()
        .execute(
            () -> {
              T result;
              try {
                result = work.get();
              } catch (RuntimeException e) {
                loop.execute(
                    () -> {
                      client.logAuthFailure("authentication work failed: " + e);
                      client.fatal(SqlState.INTERNAL_ERROR, "authentication failed");
                    });
                return;
              }
              loop.execute(
                  () -> {
                    if (client.isLoggingIn()) {
                      then.accept(result);
                    }
                  });
            });
  }

  static boolean constantTimeEquals(String a, String b) {
    return MessageDigest.isEqual(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }
}
