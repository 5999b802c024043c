package dev.sluice.nativebindings.dpdk;

/**
 * A DPDK call failed. The message names the call, DPDK's reason ({@code rte_strerror})
 * and, where DPDK logged one, its own explanation.
 */
public class DpdkException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed and why.
     */
    public DpdkException(final String message)
    {
        super(message);
    }
}
