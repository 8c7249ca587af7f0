package io.asyncpipeline.examples;

import io.asyncpipeline.schedule.OpCosts;
import io.asyncpipeline.schedule.Schedules;
import io.asyncpipeline.schedule.SimulationResult;
import io.asyncpipeline.schedule.StagePlan;
import io.asyncpipeline.schedule.TimingSimulator;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Prints the timing simulator's predicted utilisation and bubble for P = 8 … 24 stages (backward costs
 * twice a forward, updates free), for the asynchronous and the synchronous schedules.
 *
 * <pre>./examples/run.sh io.asyncpipeline.examples.ScheduleTable [--microBatches 8] [--steps 1000]</pre>
 *
 * {@code --help} lists the options; exit codes as in {@link Cli}.
 */
@Command(name = "ScheduleTable", mixinStandardHelpOptions = true, sortOptions = false,
        description = "The timing simulator's utilisation for P = 8, 12, ..., 24 stages (forward 1, backward 2,"
                + " update 0), asynchronous and synchronous schedules, as a Markdown table.")
public final class ScheduleTable implements Callable<Integer> {

    @Option(names = "--microBatches", description = "M, micro-batches per mini-batch of the synchronous schedules."
            + " Default: ${DEFAULT-VALUE}")
    int microBatches = 8;

    @Option(names = "--steps", description = "N, micro-batches per run (at least --microBatches; the synchronous"
            + " schedules run N / M mini-batches). Default: ${DEFAULT-VALUE}")
    int steps = 1000;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(Cli.execute(new ScheduleTable(), args));
    }

    @Override
    public Integer call() {
        int m = Cli.positive(spec, "--microBatches", microBatches);
        int n = steps;
        if (n < m) {
            throw Cli.invalid(spec, "--steps must be at least --microBatches (" + m + "), got " + n);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("| P | ASYNC_1F1B utilisation (N=%d) | GPIPE utilisation (M=%d) | GPIPE bubble (P-1)/(M+P-1) "
                + "| ONE_F_ONE_B utilisation | GPIPE time per mini-batch / ASYNC time per %d micro-batches |%n", n, m, m);
        out.println("|---|---|---|---|---|---|");
        for (int p = 8; p <= 24; p += 4) {
            OpCosts costs = OpCosts.uniform(p, 1.0, 2.0, 0.0);
            SimulationResult async = TimingSimulator.simulate(Schedules.async1F1B(p, n), costs);
            StagePlan gp = Schedules.gpipe(p, m, n / m);
            SimulationResult gpipe = TimingSimulator.simulate(gp, costs);
            SimulationResult ofob = TimingSimulator.simulate(Schedules.oneFOneB(p, m, n / m), costs);
            out.printf("| %d | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.2f |%n", p, 100 * async.meanUtilisation(),
                    100 * gpipe.meanUtilisation(), 100 * SimulationResult.gpipeBubble(p, m), 100 * ofob.meanUtilisation(),
                    gpipe.makespan() / async.makespan());
        }
        out.flush();
        return Cli.OK;
    }
}
