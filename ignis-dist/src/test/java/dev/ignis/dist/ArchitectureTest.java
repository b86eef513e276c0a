package dev.ignis.dist;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.domain.JavaClasses;
import org.junit.jupiter.api.Test;

/**
 * Pins the dependency direction between components: the frontend may call config, assignment and
 * the worker API; nothing depends on the frontend or on this wiring module except the benchmarks,
 * and nothing but this wiring module depends on the benchmarks; the worker and the
 * journal know nothing of config or the frontend; Ratis stays inside the journal.
 */
class ArchitectureTest {
    static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.ignis");

    @Test
    void layers() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("dist").definedBy("dev.ignis.dist..")
                .layer("bench").definedBy("dev.ignis.bench..")
                .layer("cluster").definedBy("dev.ignis.cluster..")
                .layer("frontend").definedBy("dev.ignis.frontend..")
                .layer("assignment").definedBy("dev.ignis.assignment..")
                .layer("async").definedBy("dev.ignis.async..")
                .layer("config").definedBy("dev.ignis.config..")
                .layer("worker").definedBy("dev.ignis.worker..")
                .layer("runtimes").definedBy("dev.ignis.runtimes..")
                .layer("journal").definedBy("dev.ignis.journal..")
                .layer("snapshot").definedBy("dev.ignis.snapshot..")
                .layer("chunk").definedBy("dev.ignis.chunk..")
                .layer("common").definedBy("dev.ignis.common..")
                .whereLayer("dist").mayNotBeAccessedByAnyLayer()
                .whereLayer("bench").mayOnlyBeAccessedByLayers("dist")
                .whereLayer("cluster").mayOnlyBeAccessedByLayers("dist")
                .whereLayer("frontend").mayOnlyBeAccessedByLayers("cluster", "dist", "bench")
                .whereLayer("assignment").mayOnlyBeAccessedByLayers("frontend", "cluster", "dist", "bench")
                .whereLayer("async").mayOnlyBeAccessedByLayers("frontend", "cluster", "dist")
                .whereLayer("config").mayOnlyBeAccessedByLayers("frontend", "cluster", "dist", "bench")
                .whereLayer("worker").mayOnlyBeAccessedByLayers("assignment", "frontend", "cluster", "dist", "bench")
                .whereLayer("runtimes").mayOnlyBeAccessedByLayers("worker", "dist")
                .whereLayer("journal").mayOnlyBeAccessedByLayers("config", "assignment", "async", "cluster", "dist", "bench")
                .whereLayer("snapshot").mayOnlyBeAccessedByLayers("dist")
                .whereLayer("chunk").mayOnlyBeAccessedByLayers("snapshot", "dist")
                .check(CLASSES);
    }

    @Test
    void ratisStaysBehindTheJournal() {
        noClasses().that().resideOutsideOfPackage("dev.ignis.journal..")
                .should().dependOnClassesThat().resideInAPackage("org.apache.ratis..")
                .check(CLASSES);
    }

    @Test
    void grpcStaysInTheCluster() {
        noClasses().that().resideOutsideOfPackage("dev.ignis.cluster..")
                .should().dependOnClassesThat().resideInAPackage("io.grpc..")
                .check(CLASSES);
    }

    @Test
    void helidonStaysInTheFrontend() {
        noClasses().that().resideOutsideOfPackage("dev.ignis.frontend..")
                .should().dependOnClassesThat().resideInAPackage("io.helidon..")
                .check(CLASSES);
    }
}
