package io.jbouncer.protocol;

import java.util.Map;

/**
 * The untyped packets a client may send before its session starts. See <a
 * href="https://www.postgresql.org/docs/current/protocol-message-formats.html">message formats</a>.
 */
public sealed interface StartupPacket {
  int PROTOCOL_3_0 = 196608;
  int SSL_REQUEST_CODE = 80877103;
  int GSSENC_REQUEST_CODE = 80877104;
  int CANCEL_REQUEST_CODE = 80877102;

  /** SSLRequest: the client asks for TLS. */
  record SslRequest() implements StartupPacket {}

  /** GSSENCRequest: the client asks for GSSAPI encryption. */
  record GssEncRequest() implements StartupPacket {}

  /**
   * CancelRequest. {@code key} is the process id and the secret as one 8-byte value, the way the
   * key reaches us in protocol 3.0 (longer 3.2 keys are not handed out by jbouncer).
   */
  record CancelRequest(long key) implements StartupPacket {}

  /**
   * StartupMessage with its protocol version and its parameters in the order the client sent them.
   * A version other than 3.0 is still decoded so the proxy can answer it with PostgreSQL's error.
   */
  record StartupMessage(int protocolVersion, Map<String, String> parameters)
      implements StartupPacket {
    public int majorVersion() {
      return protocolVersion >>> 16;
    }

    public int minorVersion() {
      return protocolVersion & 0xffff;
    }
  }
}
