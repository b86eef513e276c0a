package dev.ignis.dist;

import dev.ignis.config.ConfigStore;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.lambda.LambdaClient;

/** One real platform per test class, an account "alice" on it, and an SDK client signed with her key. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PlatformTestBase {
    @TempDir static Path dir;
    Platform platform;
    LambdaClient lambda;
    ConfigStore.IssuedKey key;

    /** The platform's configuration (overridden to run a suite on another sandbox driver). */
    PlatformConfig config(Path dataDir) {
        return TestPlatform.config(dataDir, java.time.Duration.ofMinutes(5));
    }

    @BeforeAll
    void startPlatform() {
        platform = Platform.start(config(dir));
        key = platform.config().createAccount("alice");
        lambda = TestPlatform.client(platform.port(), key.accessKeyId(), key.secretAccessKey());
    }

    @AfterAll
    void stopPlatform() {
        if (lambda != null) {
            lambda.close();
        }
        if (platform != null) {
            platform.close();
        }
    }
}
