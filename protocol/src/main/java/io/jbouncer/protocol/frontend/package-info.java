/**
 * Messages a PostgreSQL client sends that jbouncer reads or builds (it is a client of the server),
 * one small record per message, each with {@code encodeTo(out)} and, for the typed ones, {@code
 * decode(frame)}. Password, SASLInitialResponse and SASLResponse all have type {@code p}: which one
 * a frame holds depends on the authentication under way, so the caller picks the decoder. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html">message formats</a>.
 */
@NullMarked
package io.jbouncer.protocol.frontend;

import org.jspecify.annotations.NullMarked;
