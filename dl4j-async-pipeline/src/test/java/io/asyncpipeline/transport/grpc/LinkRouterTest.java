package io.asyncpipeline.transport.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.asyncpipeline.transport.Channel;
import io.asyncpipeline.transport.HaltSignal;
import io.asyncpipeline.transport.MalformedMessageException;
import io.asyncpipeline.transport.Message;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The ends of a link in two routers, as in two processes: either may come first; foreign links and bad bytes fail. */
class LinkRouterTest {

    private interface Body {
        void run(LinkRouter receiving, ManagedChannel toIt) throws Exception;
    }

    private static void withServer(LinkRouter router, Body body) throws Exception {
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(router.service())
                .build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            body.run(router, channel);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static Message data(int mb) {
        INDArray t = Nd4j.rand(DataType.FLOAT, 3, 4);
        return new Message(mb, 0, 3, new INDArray[] {t}, null, null, null);
    }

    @Test
    void aSenderThatComesBeforeItsReceiverWaitsForIt() throws Exception {
        withServer(new LinkRouter(), (router, channel) -> {
            HaltSignal halt = new HaltSignal();
            Channel out = LinkRouter.sender(channel, "job/0/0/forward", halt);
            Message m = data(7);
            Thread send = new Thread(() -> {
                try {
                    out.send(m);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            send.start();
            Thread.sleep(300);                                  // the stream is there before the receiver
            Channel in = router.receiver("job/0/0/forward", 2, halt);
            Message got = in.receive();
            assertEquals(7, got.microBatch());
            assertEquals(m.tensors()[0], got.tensors()[0]);
            send.join(5_000);
            LinkRouter.finish(out);
            router.release(in);
            assertEquals(0, router.pending());
        });
    }

    @Test
    void aLinkOfAnotherJobIsRefusedNamingIt() throws Exception {
        withServer(new LinkRouter(key -> key.startsWith("mine/")), (router, channel) -> {
            HaltSignal halt = new HaltSignal();
            Channel out = LinkRouter.sender(channel, "theirs/0/0/forward", halt);
            LinkFailedException e = assertThrows(LinkFailedException.class, () -> {
                for (int i = 0; i < 200; i++) {
                    out.send(data(i));
                    Thread.sleep(10);
                }
            });
            assertTrue(e.getMessage().contains("theirs/0/0/forward") && e.getMessage().contains("NOT_FOUND"),
                    e.getMessage());
            assertEquals(0, router.pending(), "nothing was kept for the foreign link");
        });
    }

    @Test
    void bytesThatAreNotAMessageFailTheReceiverNotTheProcess() throws Exception {
        withServer(new LinkRouter(), (router, channel) -> {
            HaltSignal halt = new HaltSignal();
            Channel in = router.receiver("job/0/0/forward", 2, halt);
            LinkRouter.Outbound raw = new LinkRouter.Outbound("job/0/0/forward", halt);
            raw.start(channel);
            raw.send(new byte[] {1, 2, 3, 4, 5});
            assertThrows(MalformedMessageException.class, in::receive);
            raw.finish();
            router.release(in);
        });
    }

    @Test
    void aTensorOfAnotherTypeOrRankThanTheLinkCarriedIsRefusedNamingTheLink() throws Exception {
        withServer(new LinkRouter(), (router, channel) -> {
            HaltSignal halt = new HaltSignal();
            Channel in = router.receiver("job/0/1/forward", 4, halt);
            Channel out = LinkRouter.sender(channel, "job/0/1/forward", halt);
            out.send(data(0));
            out.send(new Message(1, 0, 3, new INDArray[] {Nd4j.rand(DataType.DOUBLE, 3, 4)}, null, null, null));
            out.send(new Message(2, 0, 3, new INDArray[] {Nd4j.rand(DataType.FLOAT, 3, 4, 2)}, null, null, null));
            assertEquals(0, in.receive().microBatch());
            MalformedMessageException type = assertThrows(MalformedMessageException.class, in::receive);
            assertTrue(type.getMessage().contains("job/0/1/forward") && type.getMessage().contains("DOUBLE"),
                    type.getMessage());
            MalformedMessageException rank = assertThrows(MalformedMessageException.class, in::receive);
            assertTrue(rank.getMessage().contains("rank 3"), rank.getMessage());
            LinkRouter.finish(out);
            router.release(in);
        });
    }
}
