package io.jbouncer.client;

import io.jbouncer.pool.PoolKey;
import java.net.SocketAddress;
import org.jspecify.annotations.Nullable;

/**
 * One client connection as SHOW CLIENTS and SHOW SOCKETS describe it, taken on its event loop.
 *
 * @param state PgBouncer's name: {@code active} (linked to a server), {@code idle} (logged in, no
 *     server), {@code waiting}, {@code active_cancel_req}, {@code waiting_cancel_req}, or {@code
 *     login} (not listed by SHOW CLIENTS)
 * @param waitMicros since the query now running (or waiting) started, 0 if none
 * @param linkedServerId the id of the linked server, 0 if none
 * @param pool the pool it belongs to; null for the admin console and clients still logging in
 * @param pendingWriteBytes written to the connection and not yet sent (SHOW SOCKETS' send_remain)
 */
public record ClientSnapshot(
    long id,
    @Nullable String user,
    @Nullable String database,
    String state,
    @Nullable SocketAddress remote,
    @Nullable SocketAddress local,
    long connectMillis,
    long requestMillis,
    long waitMicros,
    long linkedServerId,
    String applicationName,
    @Nullable PoolKey pool,
    boolean admin,
    int preparedStatements,
    @Nullable String pinnedFor,
    long pendingWriteBytes) {}
