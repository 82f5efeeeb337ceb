package io.jbouncer;

import io.jbouncer.config.Settings;
import java.net.InetSocketAddress;

/** A running jbouncer: listeners, event loops and pools. */
public final class JBouncer implements AutoCloseable {
  /** Binds the listeners and starts serving; returns once clients can connect. */
  public static JBouncer start(Settings settings) throws InterruptedException {
    throw new UnsupportedOperationException("TODO");
  }

  /** The first listening address (the actual port when listen_port is 0). */
  public InetSocketAddress localAddress() {
    throw new UnsupportedOperationException("TODO");
  }

  /** Blocks until {@link #close()} has completed. */
  public void awaitTermination() throws InterruptedException {
    throw new UnsupportedOperationException("TODO");
  }

  /** Closes listeners, clients and servers. */
  @Override
  public void close() {}
}
