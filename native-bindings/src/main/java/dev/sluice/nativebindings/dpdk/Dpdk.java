package dev.sluice.nativebindings.dpdk;

import java.lang.foreign.MemorySegment;

import dev.sluice.nativebindings.dpdk.generated.RteEal;
import dev.sluice.nativebindings.dpdk.generated.SluiceShim;
import dev.sluice.nativebindings.dpdk.internal.NativeLookup;

/**
 * Whether DPDK can be used here: the availability trio ({@link #isAvailable()},
 * {@link #ensureAvailable()}, {@link #unavailabilityCause()}) and the version check.
 *
 * <p>Available means: the C shim and DPDK's shared libraries load, every bound symbol
 * resolves, and the DPDK found at run time is 22.11, the release whose struct layouts the
 * generated bindings carry (layouts change between releases, e.g. 23.11 reorders
 * {@code rte_eth_fp_ops}), and the release the shim was compiled against.
 */
public final class Dpdk
{
    /** The DPDK release the bindings were generated for. */
    public static final int EXPECTED_YEAR = 22;
    /** The DPDK release the bindings were generated for. */
    public static final int EXPECTED_MONTH = 11;

    private static final String CAUSE = check();

    private Dpdk()
    {
    }

    /**
     * @return true if DPDK can be used.
     */
    public static boolean isAvailable()
    {
        return CAUSE == null;
    }

    /**
     * @return why DPDK cannot be used, with what to install; {@code null} if it can.
     */
    public static String unavailabilityCause()
    {
        return CAUSE;
    }

    /**
     * @throws DpdkUnavailableException with the cause if DPDK cannot be used.
     */
    public static void ensureAvailable()
    {
        if (CAUSE != null)
        {
            throw new DpdkUnavailableException(CAUSE);
        }
    }

    /**
     * @return {@code rte_version()}, e.g. "DPDK 22.11.11".
     */
    public static String version()
    {
        ensureAvailable();
        return cString(RteEal.rte_version());
    }

    static String cString(final MemorySegment pointer)
    {
        return MemorySegment.NULL.equals(pointer) ? "" : pointer.reinterpret(Integer.MAX_VALUE).getString(0);
    }

    private static String check()
    {
        final String loadFailure = NativeLookup.loadFailure();
        if (loadFailure != null)
        {
            return loadFailure;
        }
        try
        {
            final int year = RteEal.rte_version_year();
            final int month = RteEal.rte_version_month();
            final String version = cString(RteEal.rte_version());
            if (year != EXPECTED_YEAR || month != EXPECTED_MONTH)
            {
                return "found " + version + " but Sluice's bindings are for DPDK " + EXPECTED_YEAR + "." +
                    EXPECTED_MONTH + " (struct layouts differ between releases); install Debian 12's dpdk 22.11 " +
                    "packages or regenerate the bindings (scripts/regen-bindings) and re-run the layout test";
            }
            final int builtAgainst = SluiceShim.sluice_shim_built_against();
            if ((builtAgainst >>> 24) != year || ((builtAgainst >>> 16) & 0xff) != month)
            {
                return "libsluice_shim.so was compiled against DPDK " + (builtAgainst >>> 24) + "." +
                    ((builtAgainst >>> 16) & 0xff) + " but " + version + " is installed; rebuild with mvn package";
            }
            // Touch every generated class so a missing symbol is reported here, not on first use.
            for (final String name : new String[] {"RteEal", "RteMempool", "RteRing", "RteEthdev", "SluiceShim"})
            {
                Class.forName("dev.sluice.nativebindings.dpdk.generated." + name, true, Dpdk.class.getClassLoader());
            }
            return null;
        }
        catch (final DpdkUnavailableException ex)
        {
            return ex.getMessage();
        }
        catch (final ExceptionInInitializerError ex)
        {
            return String.valueOf(ex.getCause() != null ? ex.getCause().getMessage() : ex.getMessage());
        }
        catch (final ClassNotFoundException ex)
        {
            return "bindings class missing from the build: " + ex.getMessage();
        }
    }
}
