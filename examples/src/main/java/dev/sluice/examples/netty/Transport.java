package dev.sluice.examples.netty;

import java.util.ArrayList;
import java.util.List;

import dev.sluice.driver.runtime.SluiceConfig;
import dev.sluice.netty.SluiceEventLoopGroup;
import dev.sluice.netty.SluiceServerSocketChannel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * The one place where the examples choose a transport ({@code --transport sluice|epoll|nio}): only the event
 * loop group and the server channel class differ; the pipelines are Netty's, unchanged.
 *
 * <p>With {@code sluice}, every other flag is a Sluice flag ({@code --dev}, {@code --ip}, {@code --cores},
 * {@code --listen}, TCP settings: see {@code sluice --help}); with {@code epoll} and {@code nio} only
 * {@code --listen PORT} (and {@code --cores N}: event loops) are read.
 */
final class Transport
{
    private final String name;
    private final int listenPort;
    private final int cores;
    private final SluiceConfig sluice;

    private Transport(final String name, final int listenPort, final int cores, final SluiceConfig sluice)
    {
        this.name = name;
        this.listenPort = listenPort;
        this.cores = cores;
        this.sluice = sluice;
    }

    /**
     * @param command the Sluice subcommand whose flags apply ({@code http} or {@code echo}).
     * @param args    the command line.
     * @return the chosen transport.
     */
    static Transport fromArgs(final String command, final String[] args)
    {
        String name = "sluice";
        final List<String> rest = new ArrayList<>();
        rest.add(command);
        for (int i = 0; i < args.length; i++)
        {
            if ("--transport".equals(args[i]) && i + 1 < args.length)
            {
                name = args[++i];
            }
            else
            {
                rest.add(args[i]);
            }
        }
        return switch (name)
        {
            case "sluice" ->
            {
                final SluiceConfig config = SluiceConfig.parse(rest.toArray(new String[0]));
                yield new Transport(name, config.listenPort(), config.cores(), config);
            }
            case "epoll", "nio" -> new Transport(name, intFlag(rest, "--listen", 8080), intFlag(rest, "--cores", 1),
                null);
            default -> throw new IllegalArgumentException("--transport sluice|epoll|nio, got " + name);
        };
    }

    /**
     * @return the event loop group (with Sluice: one event loop per shard, on the configured device).
     */
    EventLoopGroup newGroup()
    {
        return switch (name)
        {
            case "sluice" -> new SluiceEventLoopGroup(sluice);
            case "epoll" -> new MultiThreadIoEventLoopGroup(cores, EpollIoHandler.newFactory());
            default -> new MultiThreadIoEventLoopGroup(cores, NioIoHandler.newFactory());
        };
    }

    /**
     * @return the server channel class that goes with {@link #newGroup()}.
     */
    Class<? extends ServerChannel> serverChannelClass()
    {
        return switch (name)
        {
            case "sluice" -> SluiceServerSocketChannel.class;
            case "epoll" -> EpollServerSocketChannel.class;
            default -> NioServerSocketChannel.class;
        };
    }

    int listenPort()
    {
        return listenPort;
    }

    String name()
    {
        return name;
    }

    private static int intFlag(final List<String> args, final String flag, final int defaultValue)
    {
        final int i = args.indexOf(flag);
        if (i >= 0 && i + 1 < args.size())
        {
            return Integer.parseInt(args.get(i + 1));
        }
        return defaultValue;
    }
}
