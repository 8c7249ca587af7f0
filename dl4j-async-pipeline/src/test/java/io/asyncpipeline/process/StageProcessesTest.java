package io.asyncpipeline.process;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.PipelineException;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.StageProcesses;
import io.asyncpipeline.model.samediff.SameDiffAsyncStashingTest;
import io.asyncpipeline.model.samediff.SameDiffPipelineTest;
import io.asyncpipeline.testdata.Graphs;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.transport.BoundaryCompression;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.updater.DiscountedNadam;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Stages in separate JVMs started by the test ({@link StageProcesses#local(int)}): the same bits as the
 * single-threaded replay, GPIPE equal to {@code fit}, the trained state back in the user's model, and a stage process
 * killed with SIGKILL stopping the fit within seconds, naming the stage and its address, with no process left behind.
 */
class StageProcessesTest {

    private static StageProcesses local(int n) {
        StageProcesses p = StageProcesses.local(n).jvmOptions("-Xmx1g", "-XX:+UseSerialGC");
        for (int i = 0; i < n; i++) {
            p.environment(i, Map.of("OMP_NUM_THREADS", "1"));
        }
        return p;
    }

    /** n processes, the first a stage host inside this JVM. */
    private static StageProcesses localFirstHere(int n) {
        StageProcesses p = StageProcesses.local(n).jvmOptions("-Xmx1g", "-XX:+UseSerialGC").firstStagesHere(true);
        for (int i = 1; i < n; i++) {
            p.environment(i, Map.of("OMP_NUM_THREADS", "1"));
        }
        return p;
    }

    private static IUpdater nadam() {
        return DiscountedNadam.builder().learningRate(0.05).build();
    }

    private static void assertSameState(MultiLayerNetwork expected, MultiLayerNetwork actual, double tol, String what) {
        assertArrayEquals(expected.params().toDoubleVector(), actual.params().toDoubleVector(), tol, what + " params");
        assertArrayEquals(expected.getUpdater().getStateViewArray().toDoubleVector(),
                actual.getUpdater().getStateViewArray().toDoubleVector(), tol, what + " optimizer state");
        assertEquals(expected.getIterationCount(), actual.getIterationCount(), what + " iterations");
        assertEquals(expected.getEpochCount(), actual.getEpochCount(), what + " epochs");
    }

    private static void allGone(List<Long> pids) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        for (long pid : pids) {
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "stage process " + pid + " left");
        }
    }

    @Test
    void multiLayerNetworkOnTwoAndThreeProcessesEqualsTheReplay() throws Exception {
        for (int processes : new int[] {2, 3}) {
            boolean stash = processes == 2;
            MultiLayerNetwork replayed = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(replayed).partition(1, 1, 1)
                    .weightStashing(stash).singleThreadedReplay(true).build()) {
                w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
            }
            MultiLayerNetwork remote = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
            List<Long> pids;
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(remote).partition(1, 1, 1)
                    .weightStashing(stash).processes(local(processes)).build()) {
                pids = w.stageProcessIds();
                assertEquals(processes, pids.size());
                w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
                assertEquals(15, w.metrics().stage(2).updates() / 2, "one update per micro-batch on the last stage");
                // a second fit continues from the state the processes sent back
                w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
            }
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(replayed).partition(1, 1, 1)
                    .weightStashing(stash).singleThreadedReplay(true).build()) {
                w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
            }
            assertSameState(replayed, remote, 0.0, processes + " processes, stashing " + stash);
            allGone(pids);
        }
    }

    @Test
    void compressedBoundariesOnThreeProcessesEqualTheReplay() {
        for (BoundaryCompression c : new BoundaryCompression[] {BoundaryCompression.INT8, BoundaryCompression.FP16}) {
            MultiLayerNetwork replayed = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(replayed).partition(1, 1, 1)
                    .boundaryCompression(c).singleThreadedReplay(true).build()) {
                w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
            }
            MultiLayerNetwork remote = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(remote).partition(1, 1, 1)
                    .boundaryCompression(c).processes(local(3)).build()) {
                w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
            }
            assertSameState(replayed, remote, 0.0, "3 processes, boundaries " + c);
        }
    }

    @Test
    void extraInFlightOnThreeProcessesEqualsTheReplay() {
        MultiLayerNetwork replayed = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(replayed).partition(1, 1, 1).extraInFlight(1)
                .singleThreadedReplay(true).build()) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
        }
        MultiLayerNetwork remote = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(remote).partition(1, 1, 1).extraInFlight(1)
                .processes(local(3)).build()) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
            assertEquals(4, w.metrics().stage(0).maxDelay(), "τ_0 = (1 + 1)(3 - 1) in the stage process");
        }
        assertSameState(replayed, remote, 0.0, "3 processes, one extra micro-batch in flight per cut");
    }

    @Test
    void gpipeOnTwoProcessesEqualsFit() {
        MultiLayerNetwork plain = Nets.irisMlp(nadam(), DataType.DOUBLE, 7);
        MultiLayerNetwork piped = Nets.irisMlp(nadam(), DataType.DOUBLE, 7);
        plain.fit(Iris.iterator(10, DataType.DOUBLE), 2);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).partition(2, 1).schedule(Schedule.GPIPE)
                .microBatches(5).processes(local(2)).build()) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
        }
        assertSameState(plain, piped, 1e-10, "GPIPE");
    }

    @Test
    void gpipeOnThreeProcessesEqualsGraphFitWithASkipAcrossACut() {
        List<DataSet> data = Graphs.residualData(4, 20, DataType.DOUBLE, 5);
        ComputationGraph plain = Graphs.residual(nadam(), DataType.DOUBLE, 7);
        ComputationGraph piped = Graphs.residual(nadam(), DataType.DOUBLE, 7);
        plain.fit(new ListDataSetIterator<>(data, 1), 2);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(piped).cutAfter("d1", "d2").schedule(Schedule.GPIPE)
                .microBatches(5).processes(local(3)).build()) {
            assertEquals(List.of("d1", "d2"), w.cuts().crossing().get(1), "the skip from d1 crosses the second cut");
            w.fit(new ListDataSetIterator<>(data, 1), 2);
        }
        assertArrayEquals(plain.params().toDoubleVector(), piped.params().toDoubleVector(), 1e-10, "params");
        assertArrayEquals(plain.getUpdater().getStateViewArray().toDoubleVector(),
                piped.getUpdater().getStateViewArray().toDoubleVector(), 1e-10, "optimizer state");
        assertEquals(plain.getIterationCount(), piped.getIterationCount());
        assertEquals(plain.getEpochCount(), piped.getEpochCount());
    }

    @Test
    void withTheFirstStagesInThisJvmTwoAndThreeProcessesEqualTheReplay() throws Exception {
        for (int processes : new int[] {2, 3}) {
            MultiLayerNetwork replayed = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
            MultiLayerNetwork remote = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(replayed).stages(3).weightStashing(true)
                    .singleThreadedReplay(true).build()) {
                w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
            }
            List<Long> pids;
            try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(remote).stages(3).weightStashing(true)
                    .processes(localFirstHere(processes)).build()) {
                w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
                pids = w.stageProcessIds();
            }
            assertEquals(processes, pids.size(), "a process id per stage process: " + pids);
            assertEquals(ProcessHandle.current().pid(), pids.get(0), "process 0 is this JVM");
            assertEquals(processes - 1, pids.stream().distinct().filter(p -> p != ProcessHandle.current().pid()).count(),
                    "the others are JVMs of their own");
            assertSameState(replayed, remote, 0.0, processes + " processes, the first here");
            allGone(pids.subList(1, pids.size()));
        }
        IllegalArgumentException env = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(Nets.irisMlp(nadam(), DataType.DOUBLE, 5)).stages(2)
                        .processes(local(2).firstStagesHere(true).environment(0, Map.of("A", "1"))).build());
        assertTrue(env.getMessage().contains("process 0 is this JVM"), env.getMessage());
        assertThrows(IllegalStateException.class, () -> StageProcesses.peers("127.0.0.1:1").firstStagesHere(true));
    }

    @Test
    void computationGraphWithSeveralTensorsAcrossACutEqualsTheReplay() {
        List<MultiDataSet> data = Graphs.multiData(8, 6, DataType.FLOAT, 2);
        ComputationGraph replayed = Graphs.multiInOut(nadam(), DataType.FLOAT, 4);
        ComputationGraph remote = Graphs.multiInOut(nadam(), DataType.FLOAT, 4);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(replayed).cutAfter("dA", "merge")
                .singleThreadedReplay(true).build()) {
            w.fit(Graphs.iterator(data), 2);
        }
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(remote).cutAfter("dA", "merge")
                .processes(local(3)).build()) {
            assertEquals(List.of("b", "dA"), w.cuts().crossing().get(0), "two tensors cross the first cut");
            w.fit(Graphs.iterator(data), 2);
        }
        assertArrayEquals(replayed.params().toDoubleVector(), remote.params().toDoubleVector(), 0.0, "params");
        assertArrayEquals(replayed.getUpdater().getStateViewArray().toDoubleVector(),
                remote.getUpdater().getStateViewArray().toDoubleVector(), 0.0, "optimizer state");
        assertEquals(replayed.getIterationCount(), remote.getIterationCount());
    }

    @Test
    void sameDiffTransformerOnThreeProcessesEqualsTheReplay() {
        List<DataSet> data = SameDiffPipelineTest.batches(6, 2, 5);
        IUpdater u = DiscountedNadam.builder().learningRate(1e-2).build();
        SameDiff replayed = SameDiffAsyncStashingTest.graph(u);
        SameDiff remote = SameDiffAsyncStashingTest.graph(u);
        try (AsyncPipelineWrapper w = SameDiffAsyncStashingTest.stashing(replayed).singleThreadedReplay(true).build()) {
            w.fit(new ListDataSetIterator<>(data, 1));
        }
        try (AsyncPipelineWrapper w = SameDiffAsyncStashingTest.stashing(remote).processes(local(3)).build()) {
            w.fit(new ListDataSetIterator<>(data, 1));
        }
        Map<String, INDArray> a = SameDiffAsyncStashingTest.variables(replayed);
        Map<String, INDArray> b = SameDiffAsyncStashingTest.variables(remote);
        assertEquals(a.keySet(), b.keySet());
        for (String v : a.keySet()) {
            assertArrayEquals(a.get(v).data().asDouble(), b.get(v).data().asDouble(), 0.0, v);
        }
        for (String v : a.keySet()) {
            Map<String, INDArray> sa = replayed.getUpdaterMap().get(v).getState();
            Map<String, INDArray> sb = remote.getUpdaterMap().get(v).getState();
            for (String key : sa.keySet()) {
                assertArrayEquals(sa.get(key).data().asDouble(), sb.get(key).data().asDouble(), 0.0, v + " " + key);
            }
        }
        assertEquals(data.size(), remote.getTrainingConfig().getIterationCount());
    }

    /** What a fit disturbed mid-run threw, and how many seconds after the disturbance it returned. */
    private record Disturbed(PipelineException thrown, double seconds) {
    }

    /**
     * A long fit on 2 local stage processes; once 20 updates ran, {@code disturb} gets stage process 1's pid, and after
     * the fit returned (or 30 s passed) {@code after} does. Checks that the fit returned and that no stage process is
     * left.
     */
    private static Disturbed disturbMidFit(java.util.function.LongConsumer disturb,
                                           java.util.function.LongConsumer after) throws Exception {
        MultiLayerNetwork net = Nets.irisMlp(new Adam(0.01), DataType.FLOAT, 3);
        List<DataSet> rows = new ArrayList<>();
        DataSet all = Iris.all(DataType.FLOAT);
        for (int r = 0; r < 200; r++) {
            rows.add(all.get(r % 150));
        }
        CountDownLatch started = new CountDownLatch(20);
        net.setListeners(new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                started.countDown();
            }
        });
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        List<Long> pids;
        double seconds;
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 2).processes(local(2)).build()) {
            pids = w.stageProcessIds();
            Thread fit = new Thread(() -> {
                try {
                    w.fit(new ListDataSetIterator<>(rows, 1), 50);
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            fit.start();
            assertTrue(started.await(120, TimeUnit.SECONDS), "the fit started");
            long t0 = System.nanoTime();
            disturb.accept(pids.get(1));
            try {
                fit.join(30_000);
            } finally {
                after.accept(pids.get(1));
            }
            seconds = (System.nanoTime() - t0) / 1e9;
            assertFalse(fit.isAlive(), "fit returned");
        }
        allGone(pids);
        return new Disturbed((PipelineException) thrown.get(), seconds);
    }

    @Test
    void aStageProcessKilledMidRunStopsTheFitWithinSecondsAndLeavesNothingBehind() throws Exception {
        Disturbed d = disturbMidFit(pid -> ProcessHandle.of(pid).orElseThrow().destroyForcibly(), pid -> { });  // SIGKILL
        assertTrue(d.seconds() < 5, "fit stopped " + d.seconds() + " s after the kill");
        String m = d.thrown().getMessage();
        assertTrue(m.contains("stage 1") && m.contains("127.0.0.1:"), m);
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertFalse(t.getName().startsWith("pipeline-coordinator-feed") && t.isAlive(), "feeder thread left: " + t);
        }
    }

    @Test
    void aStageProcessThatHangsIsGivenUpAfterTheSilenceLimit() throws Exception {
        String before = System.getProperty("asyncpipeline.peerSilenceMillis");
        System.setProperty("asyncpipeline.peerSilenceMillis", "2000");
        try {
            Disturbed d = disturbMidFit(pid -> signal("STOP", pid), pid -> signal("CONT", pid));  // alive, silent
            assertTrue(d.seconds() >= 1.5 && d.seconds() < 6, "fit stopped " + d.seconds() + " s after the process hung");
            String m = d.thrown().getMessage();
            assertTrue(m.contains("stage 1") && m.contains("went silent for 2000 ms"), m);
        } finally {
            if (before == null) {
                System.clearProperty("asyncpipeline.peerSilenceMillis");
            } else {
                System.setProperty("asyncpipeline.peerSilenceMillis", before);
            }
        }
    }

    private static void signal(String name, long pid) {
        try {
            assertEquals(0, new ProcessBuilder("kill", "-" + name, Long.toString(pid)).inheritIO().start().waitFor(),
                    "kill -" + name + " " + pid);
        } catch (java.io.IOException | InterruptedException e) {
            throw new IllegalStateException("kill -" + name + " " + pid, e);
        }
    }

    @Test
    void aBadSilenceLimitIsRefusedByName() {
        String before = System.getProperty("asyncpipeline.peerSilenceMillis");
        System.setProperty("asyncpipeline.peerSilenceMillis", "soon");
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> StageHost.start("127.0.0.1", 0, "t"));
            assertTrue(e.getMessage().contains("asyncpipeline.peerSilenceMillis") && e.getMessage().contains("soon"),
                    e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty("asyncpipeline.peerSilenceMillis");
            } else {
                System.setProperty("asyncpipeline.peerSilenceMillis", before);
            }
        }
    }

    @Test
    void badSetupsAreRefusedByName() {
        MultiLayerNetwork net = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
        IllegalArgumentException more = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(net).partition(2, 1).processes(local(3)).build());
        assertTrue(more.getMessage().contains("3 stage processes for 2 stages"), more.getMessage());
        IllegalArgumentException replay = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(net).singleThreadedReplay(true).processes(local(2)).build());
        assertTrue(replay.getMessage().contains("singleThreadedReplay"), replay.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StageProcesses.peers("localhost"));
        IllegalArgumentException token = assertThrows(IllegalArgumentException.class,
                () -> new AsyncPipelineWrapper.Builder(net).processes(StageProcesses.peers("127.0.0.1:1,127.0.0.1:2"))
                        .build());
        assertTrue(token.getMessage().contains("token"), token.getMessage());
    }

    @Test
    void aCallWithoutTheTokenIsRefused() {
        try (StageHost host = StageHost.start("127.0.0.1", 0, "right")) {
            MultiLayerNetwork net = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
            String peers = "127.0.0.1:" + host.port() + ",127.0.0.1:" + host.port();
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(2, 1)
                        .processes(StageProcesses.peers(peers).token("wrong")).build()) {
                    PipelineException e = assertThrows(PipelineException.class,
                            () -> w.fit(Iris.iterator(10, DataType.DOUBLE)));
                    assertTrue(e.getMessage().contains("UNAUTHENTICATED"), e.getMessage());
                }
            });
        }
    }

    private static java.io.File tlsFile(String name) {
        return new java.io.File(StageProcessesTest.class.getResource("/tls/" + name).getFile());
    }

    @Test
    void mutualTlsTrainsToTheSameBitsAndAResumedRunEqualsOneThatNeverStopped(@org.junit.jupiter.api.io.TempDir
                                                                             java.nio.file.Path dir) throws Exception {
        MultiLayerNetwork straight = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(straight).partition(1, 2)
                .singleThreadedReplay(true).build()) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
        }
        MultiLayerNetwork first = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        java.io.File checkpoint = dir.resolve("checkpoint.zip").toFile();
        StageProcesses tls = local(2).tls(tlsFile("stage.pem"), tlsFile("stage.key"), tlsFile("ca.pem")).mutualTls(true);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(first).partition(1, 2).processes(tls).build()) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
            w.saveCheckpoint(checkpoint);
        }
        MultiLayerNetwork resumed = org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(checkpoint, true);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(resumed).partition(1, 2).processes(local(2))
                .build()) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
        }
        assertSameState(straight, resumed, 0.0, "resumed from the checkpoint");
    }

    @Test
    void perStageCheckpointFilesWrittenInProcessesResumeInProcessesToTheSameBits(@org.junit.jupiter.api.io.TempDir
                                                                              java.nio.file.Path dir) throws Exception {
        MultiLayerNetwork straight = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(straight).partition(1, 2)
                .singleThreadedReplay(true).build()) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
        }
        MultiLayerNetwork first = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(first).partition(1, 2).processes(local(2))
                .build()) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
            w.saveStageCheckpoint(dir);
        }
        assertTrue(java.nio.file.Files.isRegularFile(dir.resolve("stage-1-g1.bin")), "a file per stage");
        MultiLayerNetwork resumed = Nets.irisMlp(nadam(), DataType.DOUBLE, 9);    // freshly built, as after a crash
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(resumed).partition(1, 2).processes(local(2))
                .build()) {
            w.restoreStageCheckpoint(dir);
            w.fit(Iris.iterator(10, DataType.DOUBLE), 1);
        }
        assertSameState(straight, resumed, 0.0, "resumed from the per-stage files");
    }

    @Test
    void aPlainTextClientCannotReachATlsStageProcessAndAForeignCertificateIsRefused() {
        Tls server = new Tls(tlsFile("stage.pem"), tlsFile("stage.key"), tlsFile("ca.pem"), true);
        try (StageHost host = StageHost.start("127.0.0.1", 0, "secret", server)) {
            MultiLayerNetwork net = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
            String peers = "127.0.0.1:" + host.port() + ",127.0.0.1:" + host.port();
            IllegalStateException plain = assertThrows(IllegalStateException.class,
                    () -> new AsyncPipelineWrapper.Builder(net).partition(2, 1).processes(StageProcesses.peers(peers)
                            .token("secret").connectTimeout(Duration.ofSeconds(2))).build());
            assertTrue(plain.getMessage().contains("cannot reach the stage process at 127.0.0.1:" + host.port()),
                    plain.getMessage());
            IllegalStateException foreign = assertThrows(IllegalStateException.class,
                    () -> new AsyncPipelineWrapper.Builder(net).partition(2, 1).processes(StageProcesses.peers(peers)
                            .token("secret").connectTimeout(Duration.ofSeconds(2))
                            .tls(tlsFile("stage.pem"), tlsFile("stage.key"), tlsFile("otherca.pem"))).build());
            assertTrue(foreign.getMessage().contains("cannot reach"), foreign.getMessage());
        }
    }

    @Test
    void aPeerThatIsNotThereFailsAfterTheConnectWindowNamingItsAddress() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();                  // free now, and nobody listens after the close
        }
        MultiLayerNetwork net = Nets.irisMlp(nadam(), DataType.DOUBLE, 5);
        long t0 = System.nanoTime();
        String peers = "127.0.0.1:" + port + ",127.0.0.1:" + port;
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new AsyncPipelineWrapper.Builder(net).partition(2, 1).processes(StageProcesses.peers(peers)
                        .token("t").connectTimeout(Duration.ofSeconds(2))).build());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(e.getMessage().contains("127.0.0.1:" + port) && e.getMessage().contains("within 2 s"), e.getMessage());
        assertTrue(seconds >= 2 && seconds < 10, "gave up after " + seconds + " s");
    }
}
