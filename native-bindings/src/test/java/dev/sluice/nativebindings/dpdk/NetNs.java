package dev.sluice.nativebindings.dpdk;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace created by a test ({@code ip netns add}), which the calling thread
 * can enter and leave with {@code setns(2)}: the namespace is per thread in Linux, so a
 * net_tap device created (and its queues set up) on that thread has its kernel interface
 * inside the namespace, and so do sockets the thread opens.
 */
final class NetNs implements AutoCloseable
{
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY = 0;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle SETNS = LINKER.downcallHandle(LINKER.defaultLookup().find("setns").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private final String name;
    private int homeFd = -1;

    private NetNs(final String name)
    {
        this.name = name;
    }

    static NetNs create(final String name) throws IOException, InterruptedException
    {
        run(List.of("ip", "netns", "del", name), true);
        run(List.of("ip", "netns", "add", name), false);
        final NetNs ns = new NetNs(name);
        ns.exec("ip", "link", "set", "lo", "up");
        return ns;
    }

    String name()
    {
        return name;
    }

    /** Moves the calling thread into the namespace until {@link #leave()}. */
    void enter()
    {
        homeFd = open("/proc/thread-self/ns/net");
        final int fd = open("/var/run/netns/" + name);
        try
        {
            setns(fd);
        }
        finally
        {
            close(fd);
        }
    }

    /** Moves the calling thread back to the namespace it came from. */
    void leave()
    {
        if (homeFd >= 0)
        {
            setns(homeFd);
            close(homeFd);
            homeFd = -1;
        }
    }

    /**
     * Runs a command inside the namespace and returns its output; fails the test on a
     * non-zero exit.
     */
    String exec(final String... command) throws IOException, InterruptedException
    {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return run(full, false);
    }

    /** Starts a command inside the namespace. */
    Process start(final String... command) throws IOException
    {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return new ProcessBuilder(full).redirectErrorStream(true).start();
    }

    @Override
    public void close() throws IOException, InterruptedException
    {
        leave();
        run(List.of("ip", "netns", "del", name), true);
    }

    private static String run(final List<String> command, final boolean mayFail)
        throws IOException, InterruptedException
    {
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS))
        {
            p.destroyForcibly();
            throw new IOException("timed out: " + command);
        }
        if (p.exitValue() != 0 && !mayFail)
        {
            throw new IOException(command + " exited with " + p.exitValue() + ": " + out);
        }
        return out;
    }

    private static int open(final String path)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final int fd = (int)OPEN.invokeExact(arena.allocateFrom(path), O_RDONLY);
            if (fd < 0)
            {
                throw new IllegalStateException("cannot open " + path);
            }
            return fd;
        }
        catch (final Throwable t)
        {
            throw t instanceof RuntimeException re ? re : new IllegalStateException(t);
        }
    }

    private static void setns(final int fd)
    {
        try
        {
            if ((int)SETNS.invokeExact(fd, CLONE_NEWNET) != 0)
            {
                throw new IllegalStateException("setns failed (needs root)");
            }
        }
        catch (final Throwable t)
        {
            throw t instanceof RuntimeException re ? re : new IllegalStateException(t);
        }
    }

    private static void close(final int fd)
    {
        try
        {
            final int ignored = (int)CLOSE.invokeExact(fd);
        }
        catch (final Throwable t)
        {
            throw new IllegalStateException(t);
        }
    }
}
