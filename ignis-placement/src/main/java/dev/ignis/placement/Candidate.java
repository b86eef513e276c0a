package dev.ignis.placement;

/**
 * One worker as placement sees it when a new sandbox is needed.
 *
 * @param worker       the worker's id
 * @param totalMb      memory the worker offers to sandboxes
 * @param freeMb       memory not held by any sandbox (busy or idle)
 * @param sameFunction sandboxes of the requesting function already on this worker
 * @param heat         recent CPU demand per vCPU (an EWMA; 1.0 = every vCPU busy)
 */
public record Candidate(String worker, long totalMb, long freeMb, int sameFunction, double heat) {
    public boolean fits(long memoryMb) {
        return freeMb >= memoryMb;
    }
}
