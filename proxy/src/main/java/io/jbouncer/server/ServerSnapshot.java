package io.jbouncer.server;

import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * One server connection as SHOW SERVERS describes it.
 *
 * @param state PgBouncer's name: {@code active}, {@code idle}, {@code used} (idle past {@code
 *     server_check_delay}, to be checked before reuse), {@code tested}, {@code new} (logging in),
 *     {@code being_canceled}
 * @param linkedClientId the id of the client it serves, 0 if none
 * @param processId PostgreSQL's backend process id, from BackendKeyData
 */
public record ServerSnapshot(
    long id,
    String user,
    String database,
    String state,
    @Nullable SocketAddress remote,
    @Nullable SocketAddress local,
    long connectMillis,
    long requestMillis,
    boolean closeNeeded,
    long linkedClientId,
    int processId,
    String applicationName,
    int preparedStatements,
    long pendingWriteBytes) {}
