package dev.sluice.nativebindings.dpdk.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import dev.sluice.nativebindings.dpdk.DpdkUnavailableException;

/**
 * Loads the Sluice C shim and, through its dependencies, DPDK's shared libraries, and
 * makes downcall handles for the generated bindings.
 *
 * <p>The shim is linked against every DPDK library the bindings use (librte_eal,
 * ethdev, mempool, mbuf, ring, net_ring, bus_vdev), so one {@code dlopen} of the shim
 * loads them all, and a lookup in its handle finds their symbols as well. Loading
 * happens once, on first use; a failure is remembered with a message saying how to fix
 * it, and every later use reports that message.
 */
public final class NativeLookup
{
    /** Which library a symbol comes from (both resolve through the shim's handle). */
    public enum Library
    {
        /** DPDK's own shared libraries. */
        DPDK,
        /** libsluice_shim.so. */
        SHIM
    }

    /** Where the Maven build puts the shim inside the jar. */
    public static final String SHIM_RESOURCE = "/native/linux-x86_64/libsluice_shim.so";
    /** Overrides the shim's location (a file path), for development. */
    public static final String SHIM_PATH_PROPERTY = "sluice.shim.path";

    private static final String INSTALL_HINT =
        "install DPDK 22.11 with: sudo scripts/setup (or apt-get install dpdk libdpdk-dev dpdk-dev pkg-config gcc), " +
        "then rebuild with mvn package";

    private static final Linker LINKER = Linker.nativeLinker();
    private static final int RTLD_LAZY = 1;
    private static final SymbolLookup LOOKUP;
    private static final String LOAD_FAILURE;

    static
    {
        SymbolLookup lookup = null;
        String failure = null;
        Path shim = null;
        try
        {
            shim = locateShim();
            lookup = SymbolLookup.libraryLookup(shim, Arena.global());
        }
        catch (final ShimMissing ex)
        {
            failure = ex.getMessage();
        }
        catch (final IllegalArgumentException | IOException | URISyntaxException | UnsatisfiedLinkError ex)
        {
            failure = "cannot load the Sluice shim or DPDK's shared libraries (" +
                (shim != null ? dlopenError(shim) : ex.getMessage()) + "); " + INSTALL_HINT;
        }
        LOOKUP = lookup;
        LOAD_FAILURE = failure;
    }

    private NativeLookup()
    {
    }

    /**
     * @return why the native libraries could not be loaded, or {@code null} if they were.
     */
    public static String loadFailure()
    {
        return LOAD_FAILURE;
    }

    /**
     * Makes a downcall handle for a generated binding.
     *
     * @param library    where the symbol lives.
     * @param name       the C symbol.
     * @param descriptor its signature.
     * @param critical   whether to use {@link Linker.Option#critical(boolean)}: only for
     *                   short calls that never block.
     * @return the handle.
     * @throws DpdkUnavailableException if the libraries or the symbol are missing.
     */
    public static MethodHandle downcall(
        final Library library, final String name, final FunctionDescriptor descriptor, final boolean critical)
    {
        if (LOOKUP == null)
        {
            throw new DpdkUnavailableException(LOAD_FAILURE);
        }
        final MemorySegment symbol = LOOKUP.find(name).orElseThrow(() -> new DpdkUnavailableException(
            "symbol " + name + " not found in " + (library == Library.SHIM ? "libsluice_shim.so" : "DPDK's libraries") +
            "; the bindings are for DPDK 22.11: " + INSTALL_HINT));
        return critical ?
            LINKER.downcallHandle(symbol, descriptor, Linker.Option.critical(false)) :
            LINKER.downcallHandle(symbol, descriptor);
    }

    /**
     * The JDK reports a failed dlopen without saying why; ask the dynamic linker itself,
     * which names the missing library (e.g. "librte_eal.so.23: cannot open shared object file").
     */
    private static String dlopenError(final Path library)
    {
        try (Arena arena = Arena.ofConfined())
        {
            final SymbolLookup libc = LINKER.defaultLookup();
            final MethodHandle dlopen = LINKER.downcallHandle(libc.find("dlopen").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            final MethodHandle dlerror = LINKER.downcallHandle(libc.find("dlerror").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS));
            final MemorySegment handle = (MemorySegment)dlopen.invokeExact(
                arena.allocateFrom(library.toString()), RTLD_LAZY);
            if (!MemorySegment.NULL.equals(handle))
            {
                return "the JDK could not load " + library + " but dlopen can";
            }
            final MemorySegment message = (MemorySegment)dlerror.invokeExact();
            return MemorySegment.NULL.equals(message) ? "dlopen failed: " + library :
                message.reinterpret(Integer.MAX_VALUE).getString(0);
        }
        catch (final Throwable t)
        {
            return "dlopen failed: " + library + " (" + t + ")";
        }
    }

    private static Path locateShim() throws IOException, URISyntaxException
    {
        final String override = System.getProperty(SHIM_PATH_PROPERTY);
        if (override != null)
        {
            final Path path = Path.of(override);
            if (!Files.isReadable(path))
            {
                throw new ShimMissing("-D" + SHIM_PATH_PROPERTY + "=" + override + " is not a readable file");
            }
            return path;
        }
        final URL url = NativeLookup.class.getResource(SHIM_RESOURCE);
        if (url == null)
        {
            throw new ShimMissing(
                "the C shim libsluice_shim.so is not on the class path (" + SHIM_RESOURCE + "): the build skips it when " +
                "DPDK's development files are missing; " + INSTALL_HINT);
        }
        if ("file".equals(url.getProtocol()))
        {
            return Path.of(url.toURI());
        }
        final Path tmp = Files.createTempFile("libsluice_shim", ".so");
        tmp.toFile().deleteOnExit();
        try (InputStream in = url.openStream())
        {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        return tmp;
    }

    private static final class ShimMissing extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        ShimMissing(final String message)
        {
            super(message);
        }
    }
}
