package io.asyncpipeline.transport.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.NonFiniteScoreException;
import io.asyncpipeline.PipelineException;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.testdata.Iris;
import io.asyncpipeline.testdata.Nets;
import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.HaltedException;
import io.asyncpipeline.transport.InJvmTransport;
import io.asyncpipeline.transport.Message;
import io.asyncpipeline.transport.Transport;
import io.asyncpipeline.updater.DiscountedNadam;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** Stage channels over real gRPC streams on loopback: the same bits as in-JVM, held back, and fail-fast. */
class GrpcTransportTest {

    private static double[][] train(Transport t, Schedule s) {
        MultiLayerNetwork net = Nets.irisMlp(DiscountedNadam.builder().learningRate(0.05).build(), DataType.DOUBLE, 5);
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).schedule(s).microBatches(2)
                .weightStashing(true).transport(t).build()) {
            w.fit(Iris.iterator(10, DataType.DOUBLE), 2);
        }
        return new double[][] {net.params().data().asDouble(), net.getUpdater().getStateViewArray().data().asDouble()};
    }

    private static Message data(int microBatch, INDArray tensor) {
        return new Message(microBatch, 0, (int) tensor.size(0), new INDArray[] {tensor}, null, null, null);
    }

    @Test
    void trainsToTheSameBitsAsTheInJvmTransport() {
        try (GrpcTransport grpc = GrpcTransport.loopback()) {
            for (Schedule s : new Schedule[] {Schedule.ASYNC_1F1B, Schedule.GPIPE}) {
                double[][] a = train(new InJvmTransport(), s);
                double[][] b = train(grpc, s);
                assertArrayEquals(a[0], b[0], 0.0, s + " parameters");
                assertArrayEquals(a[1], b[1], 0.0, s + " optimizer state");
            }
        }
    }

    /** A tensor far beyond gRPC's default 4 MiB message limit crosses intact. */
    @Test
    void largeTensorsCross() throws Exception {
        try (GrpcTransport grpc = GrpcTransport.loopback()) {
            Transport.Link link = grpc.open(0, 2, new HaltSignal());
            INDArray big = Nd4j.rand(DataType.FLOAT, 3, 1 << 20);           // 12 MiB
            link.forward().send(data(7, big));
            Message m = link.forward().receive();
            assertEquals(7, m.microBatch());
            assertEquals(big, m.tensors()[0]);
            grpc.close(link);
        }
    }

    /**
     * A halt wakes a receiver waiting for a message, and a sender held back by a receiver that takes nothing (the
     * window and gRPC's buffers full) instead of letting it send without bound.
     */
    @Test
    void aHaltWakesABlockedReceiverAndABlockedSender() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (GrpcTransport grpc = GrpcTransport.loopback()) {
                HaltSignal halt = new HaltSignal();
                Transport.Link link = grpc.open(0, 1, halt);
                haltAfter(halt, 300);
                assertThrows(HaltedException.class, () -> link.backward().receive());
                grpc.close(link);

                HaltSignal halt2 = new HaltSignal();
                Transport.Link link2 = grpc.open(1, 1, halt2);
                INDArray mb4 = Nd4j.rand(DataType.FLOAT, 1, 1 << 20);
                haltAfter(halt2, 3000);
                int sent = 0;
                try {
                    while (sent < 200) {
                        link2.forward().send(data(sent, mb4));
                        sent++;
                    }
                } catch (HaltedException expected) {
                    // the sender was held back when the halt came
                }
                assertTrue(sent < 200, "the sender was held back, sent " + sent + " messages of 4 MiB");
                grpc.close(link2);
            }
        });
    }

    private static void haltAfter(HaltSignal halt, long millis) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            halt.halt();
        });
        t.setDaemon(true);
        t.start();
    }

    @Test
    void aFailureStopsThePipelineWithItsCause() {
        MultiLayerNetwork net = Nets.irisMlp(DiscountedNadam.builder().learningRate(0.05).build(), DataType.DOUBLE, 5);
        List<DataSet> data = new ArrayList<>();
        Iris.iterator(10, DataType.DOUBLE).forEachRemaining(data::add);
        data.set(4, new DataSet(data.get(4).getFeatures().dup().assign(Double.NaN), data.get(4).getLabels()));
        try (GrpcTransport grpc = GrpcTransport.loopback();
             AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).transport(grpc).build()) {
            PipelineException e = assertThrows(PipelineException.class, () -> w.fit(new ListDataSetIterator<>(data, 1)));
            assertInstanceOf(NonFiniteScoreException.class, e.getCause());
            assertEquals(2, e.stage());
        }
    }

    @Test
    void replayIsRefusedByName() {
        MultiLayerNetwork net = Nets.irisMlp(DiscountedNadam.builder().learningRate(0.05).build(), DataType.DOUBLE, 5);
        try (GrpcTransport grpc = GrpcTransport.loopback();
             AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(net).partition(1, 1, 1).transport(grpc)
                     .singleThreadedReplay(true).build()) {
            Exception e = assertThrows(Exception.class, () -> w.fit(Iris.iterator(10, DataType.DOUBLE)));
            String all = e + " " + e.getCause();
            assertTrue(all.contains("in-JVM transport"), all);
        }
    }
}
