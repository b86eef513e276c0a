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

    @BeforeAll
    void startPlatform() {
        platform = TestPlatform.start(dir);
        key = platform.config().createAccount("alice");
        lambda = TestPlatform.client(platform.port(), key.accessKeyId(), key.secretAccessKey());
    }

    @AfterAll
    void stopPlatform() {
        lambda.close();
        platform.close();
    }
}
