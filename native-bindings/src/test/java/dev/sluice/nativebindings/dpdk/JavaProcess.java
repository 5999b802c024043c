package dev.sluice.nativebindings.dpdk;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class in a child JVM with this JVM's class path, for what one JVM cannot
 * do twice (EAL start-up failures) or must not do at all (missing libraries).
 */
record JavaProcess(int exitCode, String stdout, String stderr)
{
    static JavaProcess run(final List<String> jvmArgs, final String mainClass, final String... args)
        throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--enable-native-access=ALL-UNNAMED");
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        final var out = process.getInputStream();
        final var err = process.getErrorStream();
        final StringBuilder stdout = new StringBuilder();
        final Thread reader = Thread.ofPlatform().start(() ->
        {
            try
            {
                stdout.append(new String(out.readAllBytes(), StandardCharsets.UTF_8));
            }
            catch (final IOException ignored)
            {
                // the process died; what was read is kept
            }
        });
        final String stderr = new String(err.readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new AssertionError("child JVM did not finish in 60 s: " + command);
        }
        reader.join();
        return new JavaProcess(process.exitValue(), stdout.toString(), stderr);
    }
}
