package io.asyncpipeline.process;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One end's watch over a control stream, the same at the coordinator and at a stage host: a ping every
 * {@link Control#PING_MILLIS}, and the other end given up once nothing arrived for {@link Control#LOST_MILLIS}.
 */
final class Heartbeat {

    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pipeline-control-ping");
        t.setDaemon(true);
        return t;
    });

    private final ScheduledFuture<?> task;
    private volatile long lastHeard = System.nanoTime();

    /**
     * @param ping   sends a ping to the other end
     * @param silent called once, on the timer thread, when the other end stayed silent too long (pings then stop)
     */
    Heartbeat(Runnable ping, Runnable silent) {
        this.task = TIMER.scheduleAtFixedRate(() -> {
            if (System.nanoTime() - lastHeard > TimeUnit.MILLISECONDS.toNanos(Control.LOST_MILLIS)) {
                stop();
                silent.run();
            } else {
                ping.run();
            }
        }, Control.PING_MILLIS, Control.PING_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Something arrived from the other end. */
    void heard() {
        lastHeard = System.nanoTime();
    }

    /** No more pings, no more checks. */
    void stop() {
        task.cancel(false);
    }
}
