package io.asyncpipeline.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ArgsTest {

    private static final Map<String, String> DEFAULTS = new LinkedHashMap<>(Map.of("steps", "10", "lr", "1e-3", "name", "a"));

    private static String error(String... argv) {
        return assertThrows(IllegalArgumentException.class, () -> {
            Args a = Args.parse(argv, DEFAULTS);
            a.positiveInt("steps");
            a.positiveDouble("lr");
        }).getMessage();
    }

    @Test
    void defaultsBothFormsAndErrorsNamingTheOption() {
        Args a = Args.parse(new String[] {"--steps", "7", "--lr=0.5"}, DEFAULTS);
        assertEquals(7, a.positiveInt("steps"));
        assertEquals(0.5, a.positiveDouble("lr"));
        assertEquals("a", a.string("name"));
        assertTrue(error("--stepz", "3").contains("--stepz"));
        assertTrue(error("--steps").contains("needs a value"));
        assertTrue(error("--steps", "x").contains("--steps"));
        assertTrue(error("--steps", "0").contains("> 0"));
        assertTrue(error("--lr", "-1").contains("--lr"));
        assertTrue(error("stray").contains("stray"));
        assertEquals("help", error("--help"));
    }

    @Test
    void updaterShowcaseUsesThem() {
        UpdaterShowcase.Options o = UpdaterShowcase.Options.parse(new String[] {"--epochs", "3", "--dcn-lr=0.25"});
        assertEquals(3, o.epochs());
        assertEquals(0.25, o.dcnLr());
        assertEquals(6000, o.train());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> UpdaterShowcase.Options.parse(new String[] {"--batch", "0"})).getMessage().contains("--batch"));
    }
}
