package io.jbouncer.server;

import io.jbouncer.Pooler;
import io.jbouncer.auth.PassthroughKeys;
import io.jbouncer.auth.Secrets;
import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.SqlState;
import io.jbouncer.protocol.auth.Md5Password;
import io.jbouncer.protocol.auth.ScramClient;
import io.jbouncer.protocol.auth.ScramException;
import io.jbouncer.protocol.auth.ScramSha256;
import io.jbouncer.protocol.backend.Authentication;
import io.jbouncer.protocol.backend.AuthenticationCleartextPassword;
import io.jbouncer.protocol.backend.AuthenticationMd5Password;
import io.jbouncer.protocol.backend.AuthenticationOk;
import io.jbouncer.protocol.backend.AuthenticationSasl;
import io.jbouncer.protocol.backend.AuthenticationSaslContinue;
import io.jbouncer.protocol.backend.AuthenticationSaslFinal;
import io.jbouncer.protocol.backend.AuthenticationUnsupported;
import io.jbouncer.protocol.backend.BackendKeyData;
import io.jbouncer.protocol.backend.ErrorResponse;
import io.jbouncer.protocol.backend.ParameterStatus;
import io.jbouncer.protocol.frontend.PasswordMessage;
import io.jbouncer.protocol.frontend.SaslInitialResponse;
import io.jbouncer.protocol.frontend.SaslResponse;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * jbouncer's side of a PostgreSQL login: answers the server's authentication requests (trust,
 * cleartext, MD5, SCRAM-SHA-256 with a password or pass-through keys; the server's signature is
 * verified) and collects ParameterStatus and BackendKeyData until ReadyForQuery. Used by pooled
 * server connections and by the auth_query connection.
 *
 * <p>Runs on the channel's event loop; SCRAM's PBKDF2 runs on an auth worker. The caller owns the
 * frames it passes in.
 */
final class BackendLogin {
  /** How the login ended; exactly one method is called, once. */
  interface Outcome {
    void ready(BackendLogin login);

    /** {@code errorFrame} is the server's ErrorResponse or one of ours; the callee owns it. */
    void failed(ByteBuf errorFrame, String message);
  }

  private final Pooler pooler;
  private final Channel channel;
  private final String user;
  private final @Nullable String secret;
  private final Outcome outcome;
  private final Map<String, String> parameters = new HashMap<>();
  private @Nullable ScramClient scram;
  private int processId;
  private int secretKey;
  private boolean done;

  BackendLogin(
      Pooler pooler, Channel channel, String user, @Nullable String secret, Outcome outcome) {
    this.pooler = pooler;
    this.channel = channel;
    this.user = user;
    this.secret = secret;
    this.outcome = outcome;
  }

  Map<String, String> parameters() {
    return parameters;
  }

  int processId() {
    return processId;
  }

  int secretKey() {
    return secretKey;
  }

  /** One frame from the server during login. */
  void onFrame(ByteBuf frame) {
    if (done) {
      return;
    }
    switch (Frames.type(frame)) {
      case 'R' -> onAuthentication(Authentication.decode(frame));
      case 'S' -> {
        ParameterStatus status = ParameterStatus.decode(frame);
        parameters.put(status.name(), status.value());
      }
      case 'K' -> {
        BackendKeyData key = BackendKeyData.decode(frame);
        processId = key.processId();
        secretKey = key.secretKey();
      }
      case 'E' -> {
        done = true;
        outcome.failed(frame.retainedDuplicate(), ErrorResponse.decode(frame).message());
      }
      case 'Z' -> {
        done = true;
        outcome.ready(this);
      }
      default -> {} // NoticeResponse and NegotiateProtocolVersion need no answer during login
    }
  }

  /** Ends the login with jbouncer's own error (connect timeout, closed connection...). */
  void fail(String message) {
    if (done) {
      return;
    }
    done = true;
    outcome.failed(
        ErrorResponse.of("FATAL", SqlState.PROTOCOL_VIOLATION, message)
            .encodeTo(channel.alloc().ioBuffer()),
        message);
  }

  private void onAuthentication(Authentication auth) {
    try {
      if (auth instanceof AuthenticationOk) {
        return;
      } else if (auth instanceof AuthenticationCleartextPassword) {
        if (secret == null || !Secrets.isPlain(secret)) {
          fail(
              "cannot do cleartext password authentication: no plain-text password for user "
                  + user);
          return;
        }
        send(PasswordMessage.ofPassword(secret).encodeTo(channel.alloc().ioBuffer()));
      } else if (auth instanceof AuthenticationMd5Password md5) {
        if (secret == null || Secrets.isScram(secret)) {
          fail("cannot do MD5 authentication: no password or MD5 hash for user " + user);
          return;
        }
        String response =
            Secrets.isMd5(secret)
                ? Md5Password.saltedResponse(secret, md5.salt())
                : Md5Password.clientResponse(user, secret, md5.salt());
        send(PasswordMessage.ofPassword(response).encodeTo(channel.alloc().ioBuffer()));
      } else if (auth instanceof AuthenticationSasl sasl) {
        if (!sasl.mechanisms().contains(ScramSha256.MECHANISM)) {
          fail("server offered no supported SASL mechanism: " + sasl.mechanisms());
          return;
        }
        ScramClient exchange = scramClient();
        if (exchange == null) {
          return;
        }
        scram = exchange;
        send(
            new SaslInitialResponse(exchange.mechanism(), exchange.clientFirstMessage())
                .encodeTo(channel.alloc().ioBuffer()));
      } else if (auth instanceof AuthenticationSaslContinue next) {
        if (scram == null) {
          fail("server sent SASL continue without a SASL exchange");
          return;
        }
        continueScramOffLoop(scram, next.data());
      } else if (auth instanceof AuthenticationSaslFinal last) {
        if (scram == null) {
          fail("server sent SASL final without a SASL exchange");
          return;
        }
        scram.verifyServerFinal(last.data());
        scram = null;
      } else if (auth instanceof AuthenticationUnsupported other) {
        fail("unsupported authentication method requested by server: " + other.code());
      }
    } catch (ScramException e) {
      fail("SCRAM authentication with server failed: " + e.getMessage());
    }
  }

  /** A SCRAM client for the stored password, or null after failing the login with the reason. */
  private @Nullable ScramClient scramClient() {
    if (secret == null || Secrets.isMd5(secret)) {
      fail(
          "cannot do SCRAM authentication: no plain-text password or SCRAM secret for user "
              + user);
      return null;
    }
    if (Secrets.isPlain(secret)) {
      return ScramClient.withPassword(secret, pooler.scramCache());
    }
    PassthroughKeys keys = pooler.passthroughKeys(user, secret);
    if (keys == null) {
      fail(
          "cannot do SCRAM authentication: password is SCRAM secret but client authentication did"
              + " not provide SCRAM keys");
      return null;
    }
    return ScramClient.withKeys(keys.clientKey(), keys.serverKey());
  }

  /**
   * The client-final-message needs the SaltedPassword: PBKDF2 unless cached. It is computed on an
   * auth worker; the reply goes out from this channel's event loop.
   */
  private void continueScramOffLoop(ScramClient exchange, byte[] serverFirst) {
    EventLoop loop = channel.eventLoop();
    pooler
        .authWorkers()
        .execute(
            () -> {
              byte[] reply;
              try {
                reply = exchange.clientFinalMessage(serverFirst);
              } catch (ScramException e) {
                loop.execute(
                    () -> fail("SCRAM authentication with server failed: " + e.getMessage()));
                return;
              }
              loop.execute(
                  () -> {
                    if (!done && channel.isActive()) {
                      send(new SaslResponse(reply).encodeTo(channel.alloc().ioBuffer()));
                    }
                  });
            });
  }

  private void send(ByteBuf message) {
    channel.writeAndFlush(message);
  }
}
