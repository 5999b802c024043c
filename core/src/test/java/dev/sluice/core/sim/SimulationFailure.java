package dev.sluice.core.sim;

/** A violated expectation in one seed of the simulation. */
final class SimulationFailure extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    final long seed;

    SimulationFailure(final long seed, final String message)
    {
        super(message);
        this.seed = seed;
    }
}
