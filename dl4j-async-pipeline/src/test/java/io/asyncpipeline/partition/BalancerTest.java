package io.asyncpipeline.partition;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BalancerTest {

    @Test
    void literalCases() {
        assertArrayEquals(new int[] {2, 1, 2}, Balancer.balance(new double[] {1, 1, 2, 1, 1}, 3));
        assertArrayEquals(new int[] {3, 1}, Balancer.balance(new double[] {1, 1, 1, 3}, 2));
        assertArrayEquals(new int[] {1, 1, 1}, Balancer.balance(new double[] {5, 0, 5}, 3));
        assertArrayEquals(new int[] {4}, Balancer.balance(new double[] {1, 2, 3, 4}, 1));
    }

    @Test
    void bottleneckIsOptimalAgainstBruteForce() {
        Random r = new Random(3);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + r.nextInt(9);
            int p = 1 + r.nextInt(n);
            double[] c = new double[n];
            for (int i = 0; i < n; i++) {
                c[i] = r.nextInt(10);
            }
            int[] sizes = Balancer.balance(c, p);
            assertEquals(p, sizes.length);
            int sum = 0;
            for (int s : sizes) {
                assertTrue(s >= 1);
                sum += s;
            }
            assertEquals(n, sum);
            assertEquals(bruteForce(c, p, 0), Balancer.bottleneck(c, sizes), 0.0, "costs " + java.util.Arrays.toString(c));
        }
    }

    private static double bruteForce(double[] c, int p, int from) {
        if (p == 1) {
            double s = 0;
            for (int i = from; i < c.length; i++) {
                s += c[i];
            }
            return s;
        }
        double best = Double.POSITIVE_INFINITY;
        double first = 0;
        for (int end = from + 1; end <= c.length - (p - 1); end++) {
            first += c[end - 1];
            best = Math.min(best, Math.max(first, bruteForce(c, p - 1, end)));
        }
        return best;
    }

    @Test
    void rejectsImpossibleRequests() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Balancer.balance(new double[] {1, 2}, 3));
        assertTrue(e.getMessage().contains("3 stages") && e.getMessage().contains("2 layers"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Balancer.balance(new double[] {1, Double.NaN}, 1));
    }
}
