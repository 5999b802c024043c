package dev.sluice.netty;

import dev.sluice.core.tcp.TcpConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The channel options a Sluice channel honours, those it reads from the stack and those it accepts and
 * ignores; and that a Sluice channel refuses an event loop that is not a Sluice shard.
 */
class SluiceChannelConfigTest
{
    private final SluiceSocketChannel channel = new SluiceSocketChannel();
    private final SluiceSocketChannelConfig config = channel.config();

    @Test
    void shouldDefaultToNoDelayLikeNettyAndRoundTripTheConnectionOptions()
    {
        assertEquals(Boolean.TRUE, config.getOption(ChannelOption.TCP_NODELAY), "Netty's default");
        assertTrue(config.setOption(ChannelOption.TCP_NODELAY, false));
        assertEquals(Boolean.FALSE, config.getOption(ChannelOption.TCP_NODELAY));
        assertTrue(config.setOption(ChannelOption.SO_KEEPALIVE, true));
        assertEquals(Boolean.TRUE, config.getOption(ChannelOption.SO_KEEPALIVE));
        assertEquals(-1, config.getOption(ChannelOption.SO_LINGER), "a normal close by default");
        assertTrue(config.setOption(ChannelOption.SO_LINGER, 0));
        assertEquals(0, config.getSoLinger(), "close() becomes an abort");
        assertTrue(config.setOption(ChannelOption.ALLOW_HALF_CLOSURE, true));
        assertTrue(config.isAllowHalfClosure());
        assertTrue(config.setOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, 250));
        assertEquals(250, config.getConnectTimeoutMillis());
        assertTrue(config.getOptions().containsKey(ChannelOption.SO_LINGER));
    }

    @Test
    void shouldReportTheStacksBufferLimitsAndIgnoreSettingThem()
    {
        final TcpConfig defaults = TcpConfig.builder().build();
        assertEquals(defaults.sendBufferBytes(), config.getOption(ChannelOption.SO_SNDBUF));
        assertEquals(defaults.receiveBufferBytes(), config.getOption(ChannelOption.SO_RCVBUF));
        assertTrue(config.setOption(ChannelOption.SO_SNDBUF, 1234), "accepted, as Netty's bootstrap expects");
        assertEquals(defaults.sendBufferBytes(), config.getSendBufferSize(), "windows are sized per stack");
    }

    @Test
    void serverShouldTakeABacklogOfOneOrMore()
    {
        final SluiceServerSocketChannelConfig server = new SluiceServerSocketChannel().config();
        assertTrue(server.setOption(ChannelOption.SO_BACKLOG, 1024));
        assertEquals(1024, server.getBacklog());
        assertThrows(IllegalArgumentException.class, () -> server.setBacklog(0));
    }

    @Test
    void shouldRefuseAnEventLoopThatIsNotASluiceShard() throws Exception
    {
        final EventLoopGroup nio = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try
        {
            final ChannelFuture registered = nio.register(channel).await();
            assertFalse(registered.isSuccess());
            assertTrue(registered.cause().getMessage().contains("incompatible event loop"),
                registered.cause().getMessage());
        }
        finally
        {
            nio.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }
}
