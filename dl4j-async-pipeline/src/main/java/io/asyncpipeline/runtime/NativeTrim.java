package io.asyncpipeline.runtime;

import java.lang.reflect.Method;
import org.bytedeco.javacpp.Pointer;

/**
 * Returns the C heap's free memory to the operating system: JavaCPP's {@code Pointer.trimMemory()}, which calls
 * glibc's {@code malloc_trim(0)} on Linux and does nothing elsewhere. JavaCPP 1.5.7 calls it itself after the
 * collection it forces when {@code maxPhysicalBytes} is exceeded, but keeps it private, so it is reached by
 * reflection; where that fails (another JavaCPP, a security manager) trimming is skipped and
 * {@link #available()} says so.
 */
public final class NativeTrim {

    private static final Method TRIM = find();

    private NativeTrim() {
    }

    private static Method find() {
        try {
            Method m = Pointer.class.getDeclaredMethod("trimMemory");
            m.setAccessible(true);
            m.invoke(null);                       // also checks the native library has it
            return m;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** Whether {@link #trim()} can reach JavaCPP's trim. */
    public static boolean available() {
        return TRIM != null;
    }

    /** Trims the C heap; true if it ran. */
    public static boolean trim() {
        if (TRIM == null) {
            return false;
        }
        try {
            return Boolean.TRUE.equals(TRIM.invoke(null));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }
}
