package io.jbouncer.bench;

import io.jbouncer.protocol.Frames;
import io.jbouncer.protocol.PgFrameDecoder;
import io.jbouncer.protocol.backend.CommandComplete;
import io.jbouncer.protocol.backend.ReadyForQuery;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link PgFrameDecoder} splitting one server reply to {@code SELECT id, name, created FROM ...}:
 * RowDescription, {@code rows} DataRows, CommandComplete and ReadyForQuery, arriving in one read
 * ({@code chunk} 0) or in reads of {@code chunk} bytes (1460: one Ethernet MSS per read). The
 * decoder runs in an {@link EmbeddedChannel} pipeline, as in the proxy, and a handler after it
 * releases each frame, as the relay does once it has written it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Dio.netty.leakDetection.level=disabled", "-Xms256m", "-Xmx256m"})
public class FrameDecoderBenchmark {
  private static final int MAX_FRAME_LENGTH = 1 << 20;

  @Param({"1", "20", "500"})
  int rows;

  @Param({"0", "1460"})
  int chunk;

  private ByteBuf[] reads;
  private EmbeddedChannel channel;
  private ChannelPipeline pipeline;
  private FrameSink sink;

  @Setup
  public void setUp() {
    ByteBuf reply = reply(rows);
    int size = chunk == 0 ? reply.readableBytes() : chunk;
    int count = (reply.readableBytes() + size - 1) / size;
    reads = new ByteBuf[count];
    for (int i = 0; i < count; i++) {
      reads[i] = reply.readRetainedSlice(Math.min(size, reply.readableBytes()));
    }
    reply.release();
    sink = new FrameSink();
    channel = new EmbeddedChannel(new PgFrameDecoder(MAX_FRAME_LENGTH), sink);
    pipeline = channel.pipeline();
  }

  @TearDown
  public void tearDown() {
    channel.finishAndReleaseAll();
    for (ByteBuf read : reads) {
      read.release();
    }
    int expected = rows + 3;
    if (sink.framesSinceCheck % expected != 0) {
      throw new IllegalStateException(
          sink.framesSinceCheck + " frames is not a multiple of " + expected);
    }
  }

  /** Returns the frames emitted, which must be rows + 3. */
  @Benchmark
  public long splitReply() {
    long before = sink.frames;
    for (ByteBuf read : reads) {
      pipeline.fireChannelRead(read.retainedDuplicate()); // the decoder releases its input
    }
    pipeline.fireChannelReadComplete();
    return sink.frames - before;
  }

  /** Releases every frame, counting them, as the relay does after writing one. */
  private static final class FrameSink extends ChannelInboundHandlerAdapter {
    long frames;
    long framesSinceCheck;
    long bytes;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf frame = (ByteBuf) msg;
      frames++;
      framesSinceCheck++;
      bytes += frame.readableBytes();
      frame.release();
    }
  }

  /** A reply to {@code SELECT id, name, created}: int4, text and timestamptz columns, as text. */
  static ByteBuf reply(int rows) {
    ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer();
    Frames.write(
        out,
        'T',
        body -> {
          body.writeShort(3);
          field(body, "id", 23, 4);
          field(body, "name", 25, -1);
          field(body, "created", 1184, 8);
        });
    for (int i = 0; i < rows; i++) {
      int row = i;
      Frames.write(
          out,
          'D',
          body -> {
            body.writeShort(3);
            column(body, Integer.toString(100_000 + row));
            column(body, "customer number " + row + " of the benchmark");
            column(body, "2026-11-21 12:34:56.789012+01");
          });
    }
    new CommandComplete("SELECT " + rows).encodeTo(out);
    out.writeBytes(ReadyForQuery.IDLE_FRAME.duplicate());
    return out;
  }

  private static void field(ByteBuf body, String name, int typeOid, int typeLength) {
    Frames.writeCString(body, name);
    body.writeInt(16_384); // table OID
    body.writeShort(1); // column number
    body.writeInt(typeOid);
    body.writeShort(typeLength);
    body.writeInt(-1); // type modifier
    body.writeShort(0); // text format
  }

  private static void column(ByteBuf body, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    body.writeInt(bytes.length);
    body.writeBytes(bytes);
  }
}
