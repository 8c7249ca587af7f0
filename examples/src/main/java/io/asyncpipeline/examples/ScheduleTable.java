package io.asyncpipeline.examples;

import io.asyncpipeline.schedule.OpCosts;
import io.asyncpipeline.schedule.Schedules;
import io.asyncpipeline.schedule.SimulationResult;
import io.asyncpipeline.schedule.StagePlan;
import io.asyncpipeline.schedule.TimingSimulator;

/**
 * Prints the timing simulator's predicted utilisation and bubble for P = 8 … 24 stages (backward costs
 * twice a forward, updates free), for the asynchronous and the synchronous schedules.
 *
 * <pre>./examples/run.sh io.asyncpipeline.examples.ScheduleTable [--microBatches 8] [--steps 1000]</pre>
 */
public final class ScheduleTable {

    private ScheduleTable() {
    }

    public static void main(String[] args) {
        int m = PipelineBenchmark.intArg(args, "--microBatches", 8);
        int n = PipelineBenchmark.intArg(args, "--steps", 1000);
        System.out.printf("| P | ASYNC_1F1B utilisation (N=%d) | GPIPE utilisation (M=%d) | GPIPE bubble (P-1)/(M+P-1) "
                + "| ONE_F_ONE_B utilisation | GPIPE time per mini-batch / ASYNC time per %d micro-batches |%n", n, m, m);
        System.out.println("|---|---|---|---|---|---|");
        for (int p = 8; p <= 24; p += 4) {
            OpCosts costs = OpCosts.uniform(p, 1.0, 2.0, 0.0);
            SimulationResult async = TimingSimulator.simulate(Schedules.async1F1B(p, n), costs);
            StagePlan gp = Schedules.gpipe(p, m, n / m);
            SimulationResult gpipe = TimingSimulator.simulate(gp, costs);
            SimulationResult ofob = TimingSimulator.simulate(Schedules.oneFOneB(p, m, n / m), costs);
            System.out.printf("| %d | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.2f |%n", p, 100 * async.meanUtilisation(),
                    100 * gpipe.meanUtilisation(), 100 * SimulationResult.gpipeBubble(p, m), 100 * ofob.meanUtilisation(),
                    gpipe.makespan() / async.makespan());
        }
    }
}
