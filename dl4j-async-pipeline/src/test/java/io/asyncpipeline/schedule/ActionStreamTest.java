package io.asyncpipeline.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

class ActionStreamTest {

    /** Walks a stream with the interpreter's rules for a stream of n micro-batches. */
    static List<Action> executed(ActionStream s, int n) {
        List<Action> out = new ArrayList<>();
        Integer end = null;
        while (true) {
            Action a = s.next();
            if (a.type() == ActionType.FORWARD) {
                if (end != null && a.index() >= end) {
                    continue;
                }
                if (a.index() >= n) {
                    end = a.index(); // the forward found no input
                    continue;
                }
            }
            if (a.type() == ActionType.BACKWARD && end != null && a.index() >= end) {
                return out;
            }
            out.add(a);
        }
    }

    private static void assertPrefixesMatch(IntFunction<StagePlan> finite, int stages,
                                            java.util.function.IntFunction<ActionStream> stream, int n) {
        StagePlan plan = finite.apply(n);
        for (int k = 0; k < stages; k++) {
            ActionStream s = stream.apply(k);
            assertEquals(plan.actions(k), executed(s, n), "stage " + k + " of " + stages + ", N=" + n);
        }
    }

    @Test
    void asyncStreamEqualsTheFinitePlanForEveryLength() {
        for (int p = 1; p <= 6; p++) {
            for (int n = 1; n <= 12; n++) {
                int stages = p;
                assertPrefixesMatch(nn -> Schedules.async1F1B(stages, nn), p, k -> ActionStream.async1F1B(k, stages), n);
            }
        }
    }

    @Test
    void syncStreamsEqualTheFinitePlansForWholeMiniBatches() {
        for (int p = 1; p <= 5; p++) {
            for (int m = 1; m <= 4; m++) {
                for (int j = 1; j <= 3; j++) {
                    int stages = p;
                    int micro = m;
                    assertPrefixesMatch(nn -> Schedules.gpipe(stages, micro, nn / micro), p,
                            k -> ActionStream.gpipe(k, stages, micro), j * m);
                    assertPrefixesMatch(nn -> Schedules.oneFOneB(stages, micro, nn / micro), p,
                            k -> ActionStream.oneFOneB(k, stages, micro), j * m);
                }
            }
        }
    }

    @Test
    void asyncStreamStartsWithWarmUpThenSteadyState() {
        ActionStream s = ActionStream.async1F1B(0, 3);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            b.append(s.next()).append(' ');
        }
        assertEquals("0F0 0F1 0F2 0B0 0U0 0F3 0B1 0U1 ", b.toString());
    }
}
