package io.asyncpipeline.spark;

import io.asyncpipeline.process.HostRendezvous;
import io.asyncpipeline.process.StageHost;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.Iterator;
import scala.collection.JavaConverters;
import scala.runtime.AbstractFunction1;

/**
 * One task of the barrier job: the stage host of one stage process. It listens on its executor's address, exchanges
 * endpoints with the other tasks through the barrier context's all-gather (so every host listens before any reports),
 * reports itself to the driver's {@link HostRendezvous} and serves the driver's fits until the driver releases it.
 * When the driver goes away its lease fails and the task fails; when Spark kills the task (another task of the
 * barrier stage failed) the wait is interrupted. The host is closed on every way out.
 */
final class StageTask extends AbstractFunction1<Iterator<Integer>, Iterator<String>> implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(StageTask.class);

    private final String rendezvous;
    private final String token;
    private final String bind;
    private final long connectMillis;

    /**
     * @param rendezvous    the driver's rendezvous, {@code host:port}
     * @param token         the job's access token (shipped with the task; Spark's own RPC authentication and
     *                      encryption protect it in transit when enabled)
     * @param bind          the address stage hosts listen on, or null for the executor's address
     * @param connectMillis how long a task tries to reach the rendezvous
     */
    StageTask(String rendezvous, String token, String bind, long connectMillis) {
        this.rendezvous = rendezvous;
        this.token = token;
        this.bind = bind;
        this.connectMillis = connectMillis;
    }

    @Override
    public Iterator<String> apply(Iterator<Integer> ignored) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int stage = ctx.partitionId();
        String host = bind != null ? bind : executorHost(ctx, stage);
        StageHost server = StageHost.start(host, 0, token);
        try {
            String me = host + ":" + server.port();
            String[] all = ctx.allGather(me);
            if (all.length != ctx.numPartitions() || !me.equals(all[stage])) {
                throw new IllegalStateException("stage task " + stage + ": the all-gather gave " + List.of(all)
                        + " for " + ctx.numPartitions() + " tasks, expected " + me + " at index " + stage);
            }
            LOG.info("stage task {} (attempt {}) hosts a stage at {}; all: {}", stage, ctx.attemptNumber(), me,
                    List.of(all));
            try (HostRendezvous.Lease lease = HostRendezvous.join(rendezvous, token, null, stage, me,
                    Duration.ofMillis(connectMillis))) {
                lease.awaitRelease();
            }
            return JavaConverters.asScalaIterator(List.of("stage task " + stage + " at " + me).iterator());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("stage task " + stage + " was interrupted (the barrier stage is ending)", e);
        } finally {
            server.close();
        }
    }

    /** The executor's host as the barrier context reports it ({@code host} or {@code host:port}). */
    private static String executorHost(BarrierTaskContext ctx, int stage) {
        String a = ctx.getTaskInfos()[stage].address();
        int colon = a.lastIndexOf(':');
        return colon > 0 && a.indexOf(':') == colon ? a.substring(0, colon) : a;
    }
}
