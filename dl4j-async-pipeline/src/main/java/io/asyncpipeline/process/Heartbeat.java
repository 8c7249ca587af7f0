package io.asyncpipeline.process;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One end's watch over a control stream, the same at the coordinator and at a stage host: a ping every
 * {@link Control#PING_MILLIS}, and the other end given up once nothing arrived for {@link Control#lostMillis()}.
 *
 * <p>Only time in which this JVM itself ran counts as silence. When the watch's own tick comes late (a long garbage
 * collection, or a machine so loaded that the timer thread did not run), the other end could not have been heard
 * either, so the lateness is added to its grace instead of being held against it. A killed peer is not found here at
 * all but at once, through its connection closing; this watch is for a peer that hangs or becomes unreachable.
 */
final class Heartbeat {

    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pipeline-control-ping");
        t.setDaemon(true);
        return t;
    });

    private final ScheduledFuture<?> task;
    private final long lostNanos;
    private final LongSupplier clock;
    private final Runnable ping;
    private final Runnable silent;
    private volatile long lastHeard;
    private long lastTick;
    private volatile boolean stopped;

    /**
     * @param ping   sends a ping to the other end
     * @param silent called once, on the timer thread, when the other end stayed silent too long (pings then stop)
     */
    Heartbeat(Runnable ping, Runnable silent) {
        this(ping, silent, TimeUnit.MILLISECONDS.toNanos(Control.lostMillis()), System::nanoTime, true);
    }

    /** A watch on {@code clock}; without {@code scheduled} nothing ticks but {@link #tick()} calls (tests). */
    Heartbeat(Runnable ping, Runnable silent, long lostNanos, LongSupplier clock, boolean scheduled) {
        this.ping = ping;
        this.silent = silent;
        this.lostNanos = lostNanos;
        this.clock = clock;
        this.lastHeard = clock.getAsLong();
        this.lastTick = lastHeard;
        this.task = scheduled ? TIMER.scheduleAtFixedRate(this::tick, Control.PING_MILLIS, Control.PING_MILLIS,
                TimeUnit.MILLISECONDS) : null;
    }

    /** One check: the other end given up if silent too long, else pinged. */
    void tick() {
        if (stopped) {
            return;
        }
        long now = clock.getAsLong();
        long late = now - lastTick - TimeUnit.MILLISECONDS.toNanos(Control.PING_MILLIS);
        lastTick = now;
        if (late > 0) {
            lastHeard += late;                       // this JVM stood still: not the other end's silence
        }
        if (now - lastHeard > lostNanos) {
            stop();
            silent.run();
        } else {
            ping.run();
        }
    }

    /** Something arrived from the other end. */
    void heard() {
        lastHeard = clock.getAsLong();
    }

    /** No more pings, no more checks. */
    void stop() {
        stopped = true;
        if (task != null) {
            task.cancel(false);
        }
    }
}
