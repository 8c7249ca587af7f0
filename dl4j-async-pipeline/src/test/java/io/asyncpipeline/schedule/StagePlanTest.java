package io.asyncpipeline.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StagePlanTest {

    @Test
    void compactFormJoinsActionsWithSpacesAndStagesWithNewlines() {
        StagePlan plan = StagePlan.of(List.of(
                List.of(Action.forward(0, 0), Action.backward(0, 0), Action.update(0, 0)),
                List.of(Action.forward(1, 0), Action.backward(1, 0), Action.update(1, 0))));
        assertEquals("0F0 0B0 0U0\n1F0 1B0 1U0", plan.toCompactString());
        assertEquals(plan.toCompactString(), plan.toString());
        assertEquals(2, plan.stages());
        assertEquals(6, plan.size());
        assertEquals(Action.backward(1, 0), plan.actions(1).get(1));
    }

    @Test
    void parseRoundTripsGeneratedPlans() {
        List<StagePlan> plans = List.of(Schedules.async1F1B(5, 11), Schedules.gpipe(3, 4, 3),
                Schedules.oneFOneB(6, 3, 2), Schedules.async1F1B(1, 1));
        for (StagePlan p : plans) {
            String text = p.toCompactString();
            StagePlan back = StagePlan.parse(text);
            assertEquals(p, back);
            assertEquals(p.hashCode(), back.hashCode());
            assertEquals(text, back.toCompactString());
        }
    }

    @Test
    void emptyLineIsStageWithoutActions() {
        StagePlan plan = StagePlan.parse("0F0\n\n2U0");
        assertEquals(3, plan.stages());
        assertEquals(List.of(), plan.actions(1));
        assertEquals("0F0\n\n2U0", plan.toCompactString());
    }

    @Test
    void rejectsBadText() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StagePlan.parse("0F0 0B0\n1F0 1Q0"));
        assertTrue(e.getMessage().contains("line 1") && e.getMessage().contains("'1Q0'"), e.getMessage());
        IllegalArgumentException doubleSpace = assertThrows(IllegalArgumentException.class,
                () -> StagePlan.parse("0F0  0B0"));
        assertTrue(doubleSpace.getMessage().contains("''"), doubleSpace.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StagePlan.parse(null));
        assertThrows(IllegalArgumentException.class, () -> StagePlan.of(List.of()));
    }

    @Test
    void isImmutableAndCopiesInput() {
        List<Action> stage0 = new ArrayList<>(List.of(Action.forward(0, 0)));
        StagePlan plan = StagePlan.of(List.of(stage0));
        stage0.add(Action.backward(0, 0));
        assertEquals("0F0", plan.toCompactString());
        assertThrows(UnsupportedOperationException.class, () -> plan.actions(0).add(Action.update(0, 0)));
        assertThrows(IndexOutOfBoundsException.class, () -> plan.actions(1));
    }

    @Test
    void equalityDependsOnOrder() {
        assertNotEquals(StagePlan.parse("0F0 0B0"), StagePlan.parse("0B0 0F0"));
        assertEquals(StagePlan.parse("0F0 0B0"), StagePlan.parse("0F0 0B0"));
    }
}
