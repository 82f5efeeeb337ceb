package io.jbouncer.config;

import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * PgBouncer's {@code client_tls_*} or {@code server_tls_*} keys. Files are resolved against the
 * config file's directory; {@code null} means "not set".
 *
 * @param protocols as written, e.g. {@code secure} or {@code tlsv1.2,tlsv1.3}
 * @param ciphers OpenSSL cipher list for TLS 1.2 and lower, or {@code default}
 * @param tls13Ciphers TLS 1.3 cipher suites; {@code null} = derived from {@code ciphers}
 * @param dheparams {@code none}, {@code auto} or {@code legacy}; {@code null} for server TLS
 * @param ecdhcurve curve name, {@code none} or {@code auto}; {@code null} for server TLS
 */
public record TlsSettings(
    SslMode sslmode,
    @Nullable Path caFile,
    @Nullable Path certFile,
    @Nullable Path keyFile,
    String protocols,
    String ciphers,
    @Nullable String tls13Ciphers,
    @Nullable String dheparams,
    @Nullable String ecdhcurve) {}
