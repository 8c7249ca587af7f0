package io.asyncpipeline.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class PlanValidatorTest {

    @Test
    void acceptsAllGeneratedPlans() {
        int checked = 0;
        for (int p = 1; p <= 8; p++) {
            for (int n : new int[] {1, 2, 3, 7, 16}) {
                PlanValidator.validate(Schedules.async1F1B(p, n));
                checked++;
            }
            for (int m : new int[] {1, 2, 3, 5, 8}) {
                for (int j : new int[] {1, 3}) {
                    PlanValidator.validate(Schedules.gpipe(p, m, j));
                    PlanValidator.validate(Schedules.oneFOneB(p, m, j));
                    assertEquals(List.of(), PlanValidator.structuralProblems(Schedules.oneFOneB(p, m, j)));
                    checked += 2;
                }
            }
        }
        assertEquals(8 * (5 + 20), checked);
    }

    @Test
    void rejectsBackwardBeforeForward() {
        String text = TestResources.golden("async1f1b_P3_N5.txt").replace("2F0 2B0", "2B0 2F0");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanValidator.validate(StagePlan.parse(text)));
        assertEquals("Invalid plan (1 problem(s)):\n  stage 2: backward 2B0 at position 0 precedes its forward"
                + " 2F0 at position 1", e.getMessage());
    }

    @Test
    void rejectsMissingBackward() {
        String text = TestResources.golden("async1f1b_P3_N5.txt").replace(" 1B3", "");
        List<String> problems = PlanValidator.structuralProblems(StagePlan.parse(text));
        assertEquals(List.of("stage 1: micro-batch 3 has 0 BACKWARD action(s), expected exactly 1"), problems);
    }

    @Test
    void rejectsDuplicateForwardWrongStageAndUpdateOrder() {
        StagePlan plan = StagePlan.parse("0F0 0F0 0B0 0U1 0U0\n1F0 0B0 1U0");
        assertEquals(List.of(
                "stage 0: micro-batch 0 has 2 FORWARD action(s), expected exactly 1",
                "stage 0: update 0U0 does not follow step 1 in increasing order",
                "stage 1 position 1: action 0B0 carries stage 0"),
                PlanValidator.structuralProblems(plan));
    }

    @Test
    void rejectsDeadlockWithGridAndBlockedActions() {
        StagePlan plan = StagePlan.parse("0F0 0B0 0F1 0B1\n1F1 1F0 1B0 1B1");
        assertEquals(List.of(), PlanValidator.structuralProblems(plan));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PlanValidator.validate(plan));
        assertEquals("Plan deadlocks after 1 of 8 actions.\n"
                + "Executed so far:\n"
                + "t  |0\n"
                + "S0 |F0\n"
                + "S1 |.\n"
                + "Blocked:\n"
                + "  stage 0: next 0B0 waits for 1B0\n"
                + "  stage 1: next 1F1 waits for 0F1", e.getMessage());
    }

    @Test
    void reportsEveryBlockedStageInThreeStageDeadlock() {
        // stage 1 runs 1B0 before 1F1, but stage 2 needs 1F1 before it can run 2B0
        StagePlan plan = StagePlan.parse("0F0 0F1 0B1 0B0\n1F0 1B0 1F1 1B1\n2F0 2F1 2B0 2B1");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> PlanValidator.validate(plan));
        assertEquals("Plan deadlocks after 4 of 12 actions.\n"
                + "Executed so far:\n"
                + "t  |0  1  2\n"
                + "S0 |F0 F1 .\n"
                + "S1 |.  F0 .\n"
                + "S2 |.  .  F0\n"
                + "Blocked:\n"
                + "  stage 0: next 0B1 waits for 1B1\n"
                + "  stage 1: next 1B0 waits for 2B0\n"
                + "  stage 2: next 2F1 waits for 1F1", e.getMessage());
    }

    @Test
    void capsNumberOfReportedProblems() {
        StringBuilder sb = new StringBuilder("0F0");
        for (int m = 1; m < 30; m++) {
            sb.append(" 0F").append(m);
        }
        List<String> problems = PlanValidator.structuralProblems(StagePlan.parse(sb.toString()));
        assertEquals(21, problems.size());
        assertEquals("... and 10 more", problems.get(20));
    }
}
