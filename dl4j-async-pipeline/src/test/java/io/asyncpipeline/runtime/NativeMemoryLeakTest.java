package io.asyncpipeline.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.AsyncPipelineWrapper;
import io.asyncpipeline.Schedule;
import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.InJvmTransport;
import io.asyncpipeline.transport.Message;
import io.asyncpipeline.transport.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A leak check on memory, not on time: after a warm-up, the process's physical memory (after a garbage collection
 * has let every dead array go, and a trim of the C heap) must not grow by more than a bound over 1,500 more micro-batches. ND4J frees an
 * array's native buffer through its own deallocator service when the array's Java handle is collected, so a
 * settled physical size is what a leak moves (JavaCPP's byte counters do not see ND4J buffers). The boundary
 * activation is 64 x 1024 floats (256 KiB), so a leak of one boundary array per micro-batch adds 375 MiB; the bound
 * is 96 MiB. A transport that keeps every message it carries shows that the check catches such a leak.
 */
class NativeMemoryLeakTest {

    private static final int WIDTH = 1024;
    private static final int BATCH = 64;
    private static final long BOUND = 96L << 20;

    private static MultiLayerNetwork net() {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).updater(new Adam(1e-3))
                .dataType(DataType.FLOAT).list()
                .layer(new DenseLayer.Builder().nIn(32).nOut(WIDTH).activation(Activation.TANH).build())
                .layer(new DenseLayer.Builder().nIn(WIDTH).nOut(32).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(32).nOut(4).activation(Activation.IDENTITY)
                        .build())
                .build());
        n.init();
        return n;
    }

    private static List<DataSet> data(int n) {
        Random r = new Random(5);
        List<DataSet> out = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            out.add(new DataSet(Nd4j.rand(DataType.FLOAT, BATCH, 32), Nd4j.rand(DataType.FLOAT, BATCH, 4)));
        }
        List<DataSet> cycled = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            cycled.add(out.get(r.nextInt(out.size())));
        }
        return cycled;
    }

    /**
     * Physical memory once the collector has freed what it can (ND4J frees buffers on its deallocator threads) and
     * the C heap is trimmed (glibc keeps freed blocks resident otherwise, more of them the more arenas it has).
     */
    static long settledPhysicalBytes() throws InterruptedException {
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 20; i++) {
            System.gc();
            Thread.sleep(100);
            NativeTrim.trim();
            long now = Pointer.physicalBytes();
            if (Math.abs(now - last) < (4 << 20)) {
                return now;
            }
            last = now;
        }
        return last;
    }

    /** Growth of settled native bytes over 1,500 micro-batches after a warm-up of 300, in one fit each. */
    private static long growth(Transport transport) throws InterruptedException {
        MultiLayerNetwork n = net();
        try (AsyncPipelineWrapper w = new AsyncPipelineWrapper.Builder(n).partition(1, 2).schedule(Schedule.ASYNC_1F1B)
                .transport(transport).build()) {
            w.fit(new ListDataSetIterator<>(data(300), 1));
            long before = settledPhysicalBytes();
            w.fit(new ListDataSetIterator<>(data(1500), 1));
            return settledPhysicalBytes() - before;
        }
    }

    @Test
    void nativeMemoryDoesNotGrowWithMicroBatches() throws InterruptedException {
        long g = growth(new InJvmTransport());
        assertTrue(g < BOUND, "physical memory grew by " + (g >> 20) + " MiB over 1,500 micro-batches (bound "
                + (BOUND >> 20) + " MiB)");
    }

    /** The check is sharp enough: keeping one boundary array per micro-batch fails it. */
    @Test
    void aLeakOfOneBoundaryArrayPerMicroBatchFailsTheBound() throws InterruptedException {
        List<INDArray> kept = new ArrayList<>();
        Transport leaky = new Transport() {
            private final InJvmTransport inner = new InJvmTransport();

            @Override
            public Link open(int cut, int capacity, HaltSignal halt) {
                Link l = inner.open(cut, capacity, halt);
                return new Link(new io.asyncpipeline.transport.Channel() {
                    @Override
                    public void send(Message m) throws InterruptedException {
                        if (m.tensors() != null) {
                            // a copy: the stages free the boundary arrays they made themselves, even if referenced
                            kept.add(m.tensors()[0].dup());
                        }
                        l.forward().send(m);
                    }

                    @Override
                    public Message receive() throws InterruptedException {
                        return l.forward().receive();
                    }

                    @Override
                    public int size() {
                        return l.forward().size();
                    }
                }, l.backward());
            }
        };
        long g = growth(leaky);
        assertTrue(g >= BOUND, "a leak of " + kept.size() + " boundary arrays grew physical memory by only " + (g >> 20) + " MiB");
        kept.clear();
    }
}
