package io.asyncpipeline;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package structure drawn in {@code package-info.java}, enforced: dependencies point one way (facade →
 * model adapters → runtime → stage → transport, schedule, metrics), the schedule and the partition solver are
 * pure Java, model types do not reach into each other, and the root package holds the public API only.
 */
class ArchitectureTest {

    private static JavaClasses library;

    @BeforeAll
    static void importLibrary() {
        library = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.asyncpipeline");
    }

    /**
     * The layers of the library. The updaters are a leaf the model layer builds on; the bundled transformer is a
     * user-level model (it builds its graph with the SameDiff helpers of the model layer).
     */
    static ArchRule layers() {
        return layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("Facade").definedBy("io.asyncpipeline")
                .layer("Model").definedBy("io.asyncpipeline.model..")
                .layer("Runtime").definedBy("io.asyncpipeline.runtime..")
                .layer("Stage").definedBy("io.asyncpipeline.stage..")
                .layer("Transport").definedBy("io.asyncpipeline.transport..")
                .layer("Schedule").definedBy("io.asyncpipeline.schedule..")
                .layer("Metrics").definedBy("io.asyncpipeline.metrics..")
                .layer("Partition").definedBy("io.asyncpipeline.partition..")
                .layer("Updater").definedBy("io.asyncpipeline.updater..")
                .layer("Transformer").definedBy("io.asyncpipeline.transformer..")
                .layer("Tuning").definedBy("io.asyncpipeline.arbiter..")
                .layer("Process").definedBy("io.asyncpipeline.process..")
                .whereLayer("Facade").mayOnlyBeAccessedByLayers("Tuning")
                .whereLayer("Process").mayOnlyBeAccessedByLayers("Facade")
                .whereLayer("Model").mayOnlyBeAccessedByLayers("Facade", "Transformer", "Process")
                .whereLayer("Runtime").mayOnlyBeAccessedByLayers("Facade", "Model", "Process")
                .whereLayer("Stage").mayOnlyBeAccessedByLayers("Runtime", "Model", "Process")
                .whereLayer("Transport").mayOnlyBeAccessedByLayers("Facade", "Model", "Runtime", "Stage", "Process")
                .whereLayer("Schedule").mayOnlyBeAccessedByLayers("Facade", "Model", "Runtime", "Stage", "Process")
                .whereLayer("Metrics").mayOnlyBeAccessedByLayers("Facade", "Runtime", "Stage", "Tuning", "Process")
                .whereLayer("Partition").mayOnlyBeAccessedByLayers("Model")
                .whereLayer("Updater").mayOnlyBeAccessedByLayers("Model", "Transformer", "Tuning")
                .whereLayer("Transformer").mayOnlyBeAccessedByLayers("Tuning")
                .whereLayer("Tuning").mayNotBeAccessedByAnyLayer();
    }

    @Test
    void dependenciesPointOneWay() {
        layers().check(library);
    }

    @Test
    void scheduleAndPartitionArePureJava() {
        for (String pkg : new String[] {"io.asyncpipeline.schedule..", "io.asyncpipeline.partition.."}) {
            classes().that().resideInAPackage(pkg)
                    .should().onlyDependOnClassesThat().resideInAnyPackage("java..", pkg)
                    .because("schedules and the balancing solver are plain Java, testable without ND4J")
                    .check(library);
        }
    }

    @Test
    void modelTypesDoNotReachIntoEachOther() {
        String[] types = {"multilayer", "graph", "samediff"};
        for (String a : types) {
            for (String b : types) {
                if (!a.equals(b)) {
                    noClasses().that().resideInAPackage("io.asyncpipeline.model." + a + "..")
                            .should().dependOnClassesThat().resideInAPackage("io.asyncpipeline.model." + b + "..")
                            .check(library);
                }
            }
        }
        noClasses().that().resideInAnyPackage("io.asyncpipeline.model", "io.asyncpipeline.model.dl4j..")
                .should().dependOnClassesThat().resideInAnyPackage("io.asyncpipeline.model.multilayer..",
                        "io.asyncpipeline.model.graph..", "io.asyncpipeline.model.samediff..")
                .because("the shared parts are the base the model types build on, not the other way round")
                .check(library);
    }

    /** Arbiter is an optional dependency: only the tuning package may touch it, so the rest runs without it. */
    static ArchRule arbiterStaysInItsPackage() {
        return noClasses().that().resideOutsideOfPackage("io.asyncpipeline.arbiter..")
                .should().dependOnClassesThat().resideInAPackage("org.deeplearning4j.arbiter..");
    }

    @Test
    void onlyTheTuningPackageUsesArbiter() {
        arbiterStaysInItsPackage().check(library);
        // not vacuous: the tuning package does use Arbiter, and the rule sees it when applied there
        assertThrows(AssertionError.class, () -> noClasses().should().dependOnClassesThat()
                .resideInAPackage("org.deeplearning4j.arbiter..").check(library));
    }

    /** gRPC is an optional dependency too: only the gRPC transport and the stage processes may touch it. */
    @Test
    void onlyTheGrpcTransportUsesGrpc() {
        noClasses().that().resideOutsideOfPackages("io.asyncpipeline.transport.grpc..", "io.asyncpipeline.process..")
                .should().dependOnClassesThat().resideInAPackage("io.grpc..").check(library);
        assertThrows(AssertionError.class, () -> noClasses().should().dependOnClassesThat()
                .resideInAPackage("io.grpc..").check(library));
    }

    @Test
    void rootPackageHoldsThePublicApiOnly() {
        Set<String> root = new TreeSet<>();
        for (JavaClass c : library) {
            if (c.getPackageName().equals("io.asyncpipeline") && c.isTopLevelClass() && !c.getSimpleName().equals("package-info")) {
                root.add(c.getSimpleName());
                assertTrue(c.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC),
                        c.getSimpleName() + " in the root package is not public: internals belong in a sub-package");
            }
        }
        assertEquals(Set.of("AsyncPipelineWrapper", "PipelineBuilder", "Schedule", "PipelineSettings", "PipelineCuts",
                "PipelineException", "NonFiniteScoreException", "NativeMemoryGuard", "StageProcesses"), root);
    }

    /** The layer rule is not vacuous: a class of a lower layer that used the facade would be reported. */
    @Test
    void layerRuleCatchesAnUpwardDependency() {
        JavaClasses withViolation = new ClassFileImporter().importClasses(AsyncPipelineWrapper.class,
                Schedule.class, io.asyncpipeline.runtime.PipelineTrainer.class, io.asyncpipeline.runtime.UpwardUser.class);
        assertThrows(AssertionError.class, () -> layers().check(withViolation));
    }
}
