package io.jbouncer.auth;

/**
 * SCRAM pass-through credentials for one user: the ClientKey recovered from a client's proof and
 * the ServerKey of the stored secret. With them jbouncer logs in to PostgreSQL as that user
 * although it never saw the password, provided PostgreSQL stores the identical secret (same salt
 * and iterations). Valid only for the secret they were recovered against.
 */
public record PassthroughKeys(String secret, byte[] clientKey, byte[] serverKey) {}
