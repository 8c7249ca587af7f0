package io.asyncpipeline.process;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The control stream's watch, on a clock the test moves: silence counts only while this JVM ran. */
class HeartbeatTest {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private final AtomicInteger pings = new AtomicInteger();
    private final AtomicInteger lost = new AtomicInteger();

    private Heartbeat watch() {
        return new Heartbeat(pings::incrementAndGet, lost::incrementAndGet, 4_000 * MS, now::get, false);
    }

    /** Ticks every ping interval for {@code millis}. */
    private void run(Heartbeat h, long millis) {
        for (long t = 0; t < millis; t += Control.PING_MILLIS) {
            now.addAndGet(Control.PING_MILLIS * MS);
            h.tick();
        }
    }

    @Test
    void aSilentPeerIsGivenUpOnceAfterTheLimitAndAPeerThatSpeaksIsNot() {
        Heartbeat h = watch();
        for (int i = 0; i < 20; i++) {
            run(h, 1_000);
            h.heard();
        }
        assertEquals(0, lost.get(), "heard every second for 20 s");
        run(h, 3_500);
        assertEquals(0, lost.get(), "3.5 s of silence is within the limit");
        run(h, 1_000);
        assertEquals(1, lost.get(), "4.5 s of silence is not");
        int pinged = pings.get();
        run(h, 5_000);
        assertEquals(1, lost.get(), "given up once");
        assertEquals(pinged, pings.get(), "no pings after giving up");
    }

    @Test
    void timeInWhichThisJvmStoodStillIsNotHeldAgainstThePeer() {
        Heartbeat h = watch();
        run(h, 2_000);
        now.addAndGet(30_000 * MS);                    // a 30 s pause of this JVM: the timer did not run either
        h.tick();                                      // counts as one ping interval, 0.5 s
        assertEquals(0, lost.get(), "the pause is not silence");
        run(h, 1_000);
        assertEquals(0, lost.get(), "2 s before, the pause's 0.5 s, 1 s after: 3.5 s of silence");
        run(h, 1_000);
        assertEquals(1, lost.get(), "then 4.5 s: given up");
    }
}
