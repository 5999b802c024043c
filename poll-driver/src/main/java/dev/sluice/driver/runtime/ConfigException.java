package dev.sluice.driver.runtime;

/**
 * A command line or properties file that {@link SluiceConfig#parse} rejects; the message is one line
 * naming the flag and what is wrong with it. The {@code sluice} command prints it and exits with code 2.
 */
public final class ConfigException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    /**
     * @param message one line: the flag and what is wrong.
     */
    public ConfigException(final String message)
    {
        super(message);
    }
}
