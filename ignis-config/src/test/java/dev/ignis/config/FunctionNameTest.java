package dev.ignis.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ignis.common.LambdaException;
import org.junit.jupiter.api.Test;

class FunctionNameTest {
    private static final String ME = "123456789012";

    @Test
    void plainNamesBelongToTheCaller() {
        assertThat(FunctionName.parse("my-function_1", ME)).isEqualTo(new FunctionName(ME, "my-function_1", null));
        assertThat(FunctionName.parse("f".repeat(64), ME).name()).hasSize(64);
    }

    @Test
    void arnsAndQualifiersAreParsed() {
        assertThat(FunctionName.parse("my-function:prod", ME)).isEqualTo(new FunctionName(ME, "my-function", "prod"));
        assertThat(FunctionName.parse(ME + ":function:f:$LATEST", ME)).isEqualTo(new FunctionName(ME, "f", "$LATEST"));
        assertThat(FunctionName.parse("arn:aws:lambda:us-east-1:" + ME + ":function:f:7", ME))
                .isEqualTo(new FunctionName(ME, "f", "7"));
    }

    @Test
    void badNamesAreValidationErrors() {
        for (String bad : new String[] {"", "f".repeat(65), "bad name", "bad/name", "na\u00efve", "f:", ":f"}) {
            assertThatThrownBy(() -> FunctionName.parse(bad, ME)).as(bad).isInstanceOfSatisfying(LambdaException.class,
                    e -> assertThat(e.status()).isEqualTo(400));
        }
    }

    @Test
    void anotherAccountsArnIsDenied() {
        assertThatThrownBy(() -> FunctionName.parse("arn:aws:lambda:us-east-1:210987654321:function:f", ME))
                .isInstanceOfSatisfying(LambdaException.class, e -> assertThat(e.status()).isEqualTo(403));
    }
}
