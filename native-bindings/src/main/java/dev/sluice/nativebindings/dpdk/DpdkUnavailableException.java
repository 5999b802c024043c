package dev.sluice.nativebindings.dpdk;

/**
 * DPDK or the Sluice shim cannot be used on this machine; the message says how to fix it.
 */
public class DpdkUnavailableException extends DpdkException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message why, and what to install.
     */
    public DpdkUnavailableException(final String message)
    {
        super(message);
    }
}
