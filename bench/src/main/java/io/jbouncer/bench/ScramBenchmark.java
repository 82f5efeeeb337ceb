package io.jbouncer.bench;

import io.jbouncer.auth.ScramCache;
import io.jbouncer.protocol.auth.ScramClient;
import io.jbouncer.protocol.auth.ScramException;
import io.jbouncer.protocol.auth.ScramSecret;
import io.jbouncer.protocol.auth.ScramServer;
import io.jbouncer.protocol.auth.ScramSha256;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a client's SCRAM-SHA-256 login costs jbouncer's CPU, and what its caching saves.
 *
 * <ul>
 *   <li>{@code exchange}: one whole exchange against a stored secret, both sides: client-first,
 *       server-first, client-final with the proof checked by {@link ScramServer}, server-final
 *       checked by the client. The client proves itself from its keys ({@link
 *       ScramClient#withKeys}), so no PBKDF2 runs here: what is left is the hashing, base64 and
 *       parsing both sides do per login, and two fresh nonces from {@code SecureRandom}.
 *   <li>{@code wrongPasswordExchange} and {@code unknownUserExchange}: the same ending in a {@link
 *       ScramException}, for a wrong password and for a user who does not exist ({@link
 *       ScramServer#mock}); the two must cost the same, or the time of a failed login tells whether
 *       the user exists.
 *   <li>{@code parseSecret}: reading {@code SCRAM-SHA-256$...} from auth_file's string, which
 *       jbouncer does at each login.
 *   <li>{@code pbkdf2}: the SaltedPassword at PostgreSQL's 4096 iterations, which jbouncer pays
 *       when it logs in to a server with a plain-text password, checks a plain-text password
 *       against a SCRAM secret, or derives a secret from a plain-text auth_file password; {@code
 *       pbkdf2Cached} is the same answer from {@link ScramCache}, which is what jbouncer pays
 *       instead after the first time.
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Dio.netty.leakDetection.level=disabled", "-Xms256m", "-Xmx256m"})
public class ScramBenchmark {
  private static final String PASSWORD = "correct horse battery staple";
  private static final int ITERATIONS = ScramSha256.DEFAULT_ITERATIONS;

  private byte[] preparedPassword;
  private byte[] salt;
  private ScramSecret secret;
  private String storedSecret;
  private byte[] clientKey;
  private byte[] wrongClientKey;
  private byte[] mockKey;
  private ScramCache cache;

  @Setup
  public void setUp() {
    preparedPassword = ScramSha256.saslPrep(PASSWORD);
    salt = ScramSha256.randomSalt();
    byte[] salted = ScramSha256.saltedPassword(preparedPassword, salt, ITERATIONS);
    clientKey = ScramSha256.clientKey(salted);
    wrongClientKey =
        ScramSha256.clientKey(ScramSha256.saltedPassword("wrong password", salt, ITERATIONS));
    secret = ScramSecret.fromPassword(PASSWORD, salt, ITERATIONS);
    storedSecret = secret.encode();
    mockKey = ScramServer.newMockSecretKey();
    cache = new ScramCache();
    cache.saltedPassword(preparedPassword, salt, ITERATIONS);
  }

  /** Returns the ClientKey the server recovered from the proof. */
  @Benchmark
  public byte[] exchange() {
    ScramServer server = ScramServer.forSecret(secret);
    ScramClient client = ScramClient.withKeys(clientKey, secret.serverKey());
    byte[] serverFirst = server.serverFirstMessage(client.clientFirstMessage());
    byte[] serverFinal = server.serverFinalMessage(client.clientFinalMessage(serverFirst));
    client.verifyServerFinal(serverFinal);
    return server.clientKey();
  }

  /** Returns the failure, which must be a wrong password. */
  @Benchmark
  public ScramException wrongPasswordExchange() {
    return failedExchange(ScramServer.forSecret(secret), wrongClientKey);
  }

  /** Returns the failure, which must be a wrong password. */
  @Benchmark
  public ScramException unknownUserExchange() {
    return failedExchange(ScramServer.mock("nobody", mockKey, ITERATIONS), clientKey);
  }

  private ScramException failedExchange(ScramServer server, byte[] proofKey) {
    ScramClient client = ScramClient.withKeys(proofKey, secret.serverKey());
    byte[] serverFirst = server.serverFirstMessage(client.clientFirstMessage());
    try {
      server.serverFinalMessage(client.clientFinalMessage(serverFirst));
    } catch (ScramException e) {
      return e;
    }
    throw new IllegalStateException("an exchange that must fail succeeded");
  }

  @Benchmark
  public ScramSecret parseSecret() {
    return ScramSecret.parse(storedSecret);
  }

  @Benchmark
  public byte[] pbkdf2() {
    return ScramSha256.saltedPassword(preparedPassword, salt, ITERATIONS);
  }

  @Benchmark
  public byte[] pbkdf2Cached() {
    return cache.saltedPassword(preparedPassword, salt, ITERATIONS);
  }
}
