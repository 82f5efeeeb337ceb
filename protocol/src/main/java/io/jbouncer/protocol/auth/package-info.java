/**
 * Password hashing for PostgreSQL's MD5 and SCRAM-SHA-256 authentication, the SCRAM client jbouncer
 * uses to log in to servers, and the SCRAM server it uses to check clients. Key derivation is
 * deliberately slow: run it off the event loops. See <a
 * href="https://www.postgresql.org/docs/current/sasl-authentication.html">SASL authentication</a>.
 */
@NullMarked
package io.jbouncer.protocol.auth;

import org.jspecify.annotations.NullMarked;
