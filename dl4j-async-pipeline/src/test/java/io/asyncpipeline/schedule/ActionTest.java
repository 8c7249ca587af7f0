package io.asyncpipeline.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ActionTest {

    @Test
    void compactFormExamples() {
        assertEquals("2F0", Action.forward(2, 0).toString());
        assertEquals("0B13", Action.backward(0, 13).toString());
        assertEquals("1U4", Action.update(1, 4).toString());
        assertEquals("F3", Action.forward(7, 3).label());
    }

    @Test
    void parseReversesToString() {
        assertEquals(new Action(0, ActionType.BACKWARD, 13), Action.parse("0B13"));
        assertEquals(new Action(12, ActionType.UPDATE, 4), Action.parse("12U4"));
        for (ActionType t : ActionType.values()) {
            Action a = new Action(3, t, 1234);
            assertEquals(a, Action.parse(a.toString()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "F0", "0F", "-1F0", "0f0", " 0F0", "0F0 ", "0X1", "0B1x", "99999999999F0", "1U-2"})
    void rejectsBadText(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Action.parse(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
    }

    @Test
    void rejectsNullAndNegativeComponents() {
        assertThrows(IllegalArgumentException.class, () -> Action.parse(null));
        assertThrows(IllegalArgumentException.class, () -> new Action(-1, ActionType.FORWARD, 0));
        assertThrows(IllegalArgumentException.class, () -> new Action(0, ActionType.FORWARD, -1));
        assertThrows(NullPointerException.class, () -> new Action(0, null, 0));
    }

    @Test
    void letters() {
        assertEquals('F', ActionType.FORWARD.letter());
        assertEquals('B', ActionType.BACKWARD.letter());
        assertEquals('U', ActionType.UPDATE.letter());
        assertEquals(ActionType.UPDATE, ActionType.fromLetter('U'));
        assertThrows(IllegalArgumentException.class, () -> ActionType.fromLetter('u'));
    }
}
