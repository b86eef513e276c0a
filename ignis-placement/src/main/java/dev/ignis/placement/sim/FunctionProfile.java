package dev.ignis.placement.sim;

/**
 * One simulated function.
 *
 * @param name          unique name
 * @param account       its account (several functions per account)
 * @param memoryMb      MemorySize
 * @param durationMs    median execution time alone on a host (log-normal around it per invoke)
 * @param perDay        mean invocations per day
 * @param pattern       how the invocations arrive
 */
public record FunctionProfile(String name, String account, int memoryMb, double durationMs, double perDay, Pattern pattern) {

    /** Arrival patterns seen in the Azure Functions trace. */
    public enum Pattern {
        /** Poisson arrivals at a steady rate. */
        STEADY,
        /** Poisson arrivals whose rate follows the day (peak ×1.8, trough ×0.2). */
        DIURNAL,
        /** Bursts: several invocations at the same instant (a fan-out, a cron), bursts at a Poisson rate. */
        BURSTY
    }

    /** vCPUs one busy sandbox wants: Lambda's proportion, 1 vCPU per 1,769 MB (at least a tenth). */
    public double vcpus() {
        return Math.max(0.1, memoryMb / 1769.0);
    }
}
