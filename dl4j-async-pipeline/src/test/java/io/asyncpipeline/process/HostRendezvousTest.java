package io.asyncpipeline.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** Stage hosts started by a cluster manager report to the coordinator and stay until it releases them. */
class HostRendezvousTest {

    private static final Duration WINDOW = Duration.ofSeconds(5);

    private static String at(HostRendezvous r) {
        return "127.0.0.1:" + r.port();
    }

    @Test
    void hostsJoinInAnyOrderAndAreReleasedTogether() throws Exception {
        try (HostRendezvous r = HostRendezvous.open("127.0.0.1", 0, 3, "secret", null)) {
            HostRendezvous.Lease l2 = HostRendezvous.join(at(r), "secret", null, 2, "10.0.0.3:7002", WINDOW);
            HostRendezvous.Lease l0 = HostRendezvous.join(at(r), "secret", null, 0, "10.0.0.1:7000", WINDOW);
            HostRendezvous.Lease l1 = HostRendezvous.join(at(r), "secret", null, 1, "10.0.0.2:7001", WINDOW);
            assertEquals(List.of("10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:7002"), r.awaitHosts(WINDOW),
                    "addresses by index, whatever the order of joining");
            assertFalse(l0.awaitRelease(Duration.ofMillis(200)), "held until the coordinator releases");
            r.release();
            for (HostRendezvous.Lease l : List.of(l0, l1, l2)) {
                assertTrue(l.awaitRelease(WINDOW));
                l.close();
            }
        }
    }

    @Test
    void aMissingHostTimesOutByName() throws Exception {
        try (HostRendezvous r = HostRendezvous.open("127.0.0.1", 0, 2, "secret", null);
             HostRendezvous.Lease l0 = HostRendezvous.join(at(r), "secret", null, 0, "h0:1", WINDOW)) {
            TimeoutException e = assertThrows(TimeoutException.class, () -> r.awaitHosts(Duration.ofMillis(500)));
            assertTrue(e.getMessage().contains("stage hosts [1] of 2"), e.getMessage());
        }
    }

    @Test
    void refusedJoinsFailTheirLease() throws Exception {
        try (HostRendezvous r = HostRendezvous.open("127.0.0.1", 0, 2, "secret", null)) {
            HostRendezvous.Lease wrongToken = HostRendezvous.join(at(r), "guess", null, 0, "h0:1", WINDOW);
            IllegalStateException e = assertThrows(IllegalStateException.class, wrongToken::awaitRelease);
            assertTrue(e.getMessage().contains("UNAUTHENTICATED"), e.getMessage());
            wrongToken.close();
            HostRendezvous.Lease outOfRange = HostRendezvous.join(at(r), "secret", null, 2, "h2:1", WINDOW);
            e = assertThrows(IllegalStateException.class, outOfRange::awaitRelease);
            assertTrue(e.getMessage().contains("0..1"), e.getMessage());
            outOfRange.close();
            HostRendezvous.Lease first = HostRendezvous.join(at(r), "secret", null, 1, "h1:1", WINDOW);
            r.awaitJoined(1);
            HostRendezvous.Lease twice = HostRendezvous.join(at(r), "secret", null, 1, "other:1", WINDOW);
            e = assertThrows(IllegalStateException.class, twice::awaitRelease);
            assertTrue(e.getMessage().contains("already joined from h1:1"), e.getMessage());
            twice.close();
            first.close();
        }
    }

    @Test
    void aHostThatLeavesIsWaitedForAgain() throws Exception {
        try (HostRendezvous r = HostRendezvous.open("127.0.0.1", 0, 1, "secret", null)) {
            HostRendezvous.Lease l = HostRendezvous.join(at(r), "secret", null, 0, "h0:1", WINDOW);
            assertEquals(List.of("h0:1"), r.awaitHosts(WINDOW));
            l.close();
            assertThrows(TimeoutException.class, () -> {
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (System.nanoTime() < deadline) {   // the cancellation reaches the rendezvous asynchronously
                    r.awaitHosts(Duration.ofMillis(100));
                    Thread.sleep(50);
                }
            });
            HostRendezvous.Lease again = HostRendezvous.join(at(r), "secret", null, 0, "h0:2", WINDOW);
            assertEquals(List.of("h0:2"), r.awaitHosts(WINDOW), "the host's replacement joins in its place");
            again.close();
        }
    }

    @Test
    void aLeaseFailsWhenTheCoordinatorGoesAway() throws Exception {
        HostRendezvous r = HostRendezvous.open("127.0.0.1", 0, 1, "secret", null);
        HostRendezvous.Lease l = HostRendezvous.join(at(r), "secret", null, 0, "h0:1", WINDOW);
        r.awaitHosts(WINDOW);
        r.abandon();
        assertThrows(IllegalStateException.class, () -> l.awaitRelease(Duration.ofSeconds(20)),
                "a coordinator that stops without releasing ends the lease with a failure");
        l.close();
    }

    @Test
    void badSetupsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> HostRendezvous.open("127.0.0.1", 0, 0, "s", null));
        assertThrows(IllegalArgumentException.class, () -> HostRendezvous.open("127.0.0.1", 0, 1, "", null));
        assertThrows(IllegalArgumentException.class, () -> HostRendezvous.open("127.0.0.1", 70000, 1, "s", null));
    }
}
