package dev.sluice.nativebindings.linux;

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
 * A network namespace created with {@code ip netns add} (by a test or a tool), which the calling thread
 * can enter and leave with {@code setns(2)}: the namespace is per thread in Linux, so a
 * net_tap device created (and its queues set up) on that thread has its kernel interface
 * inside the namespace, and so do sockets the thread opens.
 */
public final class NetNamespace implements AutoCloseable
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

    private NetNamespace(final String name)
    {
        this.name = name;
    }

    /**
     * Creates (or re-creates) the namespace, with its loopback up.
     *
     * @param name the namespace name.
     * @return the namespace; the calling thread is not in it yet.
     * @throws IOException if {@code ip netns} fails (it needs root).
     * @throws InterruptedException if interrupted while waiting for {@code ip}.
     */
    public static NetNamespace create(final String name) throws IOException, InterruptedException
    {
        run(List.of("ip", "netns", "del", name), true);
        run(List.of("ip", "netns", "add", name), false);
        final NetNamespace ns = new NetNamespace(name);
        ns.exec("ip", "link", "set", "lo", "up");
        return ns;
    }

    /**
     * @return the namespace name.
     */
    public String name()
    {
        return name;
    }

    /** Moves the calling thread into the namespace until {@link #leave()}. */
    public void enter()
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
    public void leave()
    {
        if (homeFd >= 0)
        {
            setns(homeFd);
            close(homeFd);
            homeFd = -1;
        }
    }

    /**
     * Runs a command inside the namespace and returns its output.
     *
     * @param command the command and its arguments.
     * @return its output (stdout and stderr).
     * @throws IOException if it cannot run or exits non-zero.
     * @throws InterruptedException if interrupted while waiting.
     */
    public String exec(final String... command) throws IOException, InterruptedException
    {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return run(full, false);
    }

    /**
     * Starts a command inside the namespace (stderr merged into stdout).
     *
     * @param command the command and its arguments.
     * @return the process.
     * @throws IOException if it cannot start.
     */
    public Process start(final String... command) throws IOException
    {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return new ProcessBuilder(full).redirectErrorStream(true).start();
    }

    /** Leaves the namespace (if this thread is in it) and deletes it. */
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
