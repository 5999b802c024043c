package dev.sluice.driver.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.sluice.driver.apps.FixedPattern;

/**
 * The {@code sluice} command run as a child JVM inside a network namespace ({@code ip netns exec}, which
 * execs java: the child's pid is the JVM's, so {@link #terminate()} is a real SIGTERM to Sluice).
 */
final class SluiceProcess implements AutoCloseable
{
    private final Process process;
    private final Path output;

    private SluiceProcess(final Process process, final Path output)
    {
        this.process = process;
        this.output = output;
    }

    /**
     * Starts {@code sluice ARGS} in the namespace and waits for its "ready" line.
     */
    static SluiceProcess start(final String namespace, final Path dir, final String... args) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace,
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), Sluice.class.getName()));
        command.addAll(List.of(args));
        final Path output = Files.createTempFile(dir, "sluice", ".out");
        final Process process = new ProcessBuilder(command).redirectErrorStream(true)
            .redirectOutput(output.toFile()).start();
        final SluiceProcess sluice = new SluiceProcess(process, output);
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!sluice.output().contains("sluice: ready"))
        {
            if (!process.isAlive() || System.nanoTime() > deadline)
            {
                process.destroyForcibly();
                throw new IllegalStateException("sluice did not start: " + sluice.output());
            }
            Thread.sleep(50);
        }
        return sluice;
    }

    String output() throws IOException
    {
        return Files.readString(output);
    }

    Process process()
    {
        return process;
    }

    /** SIGTERM. */
    void terminate()
    {
        process.destroy();
    }

    int waitFor(final long seconds) throws InterruptedException
    {
        if (!process.waitFor(seconds, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new IllegalStateException("sluice did not exit within " + seconds + " s");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException
    {
        if (process.isAlive())
        {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
            }
        }
    }

    /** Hex SHA-256 of the first {@code length} bytes of the fixed pattern. */
    static String patternSha256(final long length) throws NoSuchAlgorithmException
    {
        final MessageDigest digest = MessageDigest.getInstance("SHA-256");
        final byte[] block = new byte[FixedPattern.PERIOD * 1024];
        for (int i = 0; i < block.length; i++)
        {
            block[i] = FixedPattern.at(i);
        }
        long left = length;
        while (left > 0)
        {
            final int n = (int)Math.min(left, block.length);
            digest.update(block, 0, n);
            left -= n;
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Runs a command and returns its output (stdout and stderr), failing if it does not end in time. */
    static String run(final long seconds, final String... command) throws Exception
    {
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        final byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS))
        {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + String.join(" ", command));
        }
        return new String(out, java.nio.charset.StandardCharsets.UTF_8);
    }
}
