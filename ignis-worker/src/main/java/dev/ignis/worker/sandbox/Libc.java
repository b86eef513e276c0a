package dev.ignis.worker.sandbox;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/** The libc calls the worker makes through the JDK's foreign-function API, each capturing errno. */
final class Libc {
    /** Allocate one of these per call and pass it first; {@link #errno} reads it afterwards. */
    static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker LINKER = Linker.nativeLinker();

    private Libc() {}

    static MethodHandle downcall(String name, FunctionDescriptor fd) {
        MemorySegment symbol = LINKER.defaultLookup().find(name).orElseThrow(() -> new IllegalStateException("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, Linker.Option.captureCallState("errno"));
    }

    static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }
}
