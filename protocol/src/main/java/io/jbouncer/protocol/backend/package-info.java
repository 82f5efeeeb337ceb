/**
 * Messages a PostgreSQL server sends that jbouncer reads or builds, one small record per message,
 * each with {@code decode(frame)} and {@code encodeTo(out)}. A frame is one whole message, type
 * byte and length included, as {@link io.jbouncer.protocol.PgFrameDecoder} emits it; decoding never
 * moves the frame's indexes and never releases it. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html">message formats</a>.
 */
@NullMarked
package io.jbouncer.protocol.backend;

import org.jspecify.annotations.NullMarked;
