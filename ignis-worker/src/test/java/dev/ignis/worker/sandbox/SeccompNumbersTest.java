package dev.ignis.worker.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The syscall numbers the filter is written with, checked against the kernel headers of the machine
 * the tests run on ({@code __NR_name} in asm/unistd_64.h): a wrong number in {@link SeccompFilter#ALLOWED},
 * in the argument-checked calls or in the tests' own list of denied calls would allow one call and deny
 * another without any interpreter noticing.
 */
class SeccompNumbersTest {
    static final Path HEADER = Path.of("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
    static final Pattern DEFINE = Pattern.compile("(?m)^#define __NR_(\\w+)\\s+(\\d+)\\s*$");

    static Map<String, Integer> kernel() throws IOException {
        assertThat(HEADER).as("kernel headers (linux-libc-dev)").exists();
        Map<String, Integer> nr = new TreeMap<>();
        Matcher m = DEFINE.matcher(Files.readString(HEADER));
        while (m.find()) {
            nr.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertThat(nr).as("parsed " + HEADER).hasSizeGreaterThan(300).containsEntry("read", 0).containsEntry("getpid", 39);
        return nr;
    }

    @Test
    void everyNumberTheFilterUsesIsTheKernels() throws IOException {
        Map<String, Integer> kernel = kernel();
        Map<String, Integer> used = new LinkedHashMap<>(SeccompFilter.ALLOWED);
        used.put("socket", SeccompFilter.SYS_SOCKET);
        used.put("socketpair", SeccompFilter.SYS_SOCKETPAIR);
        used.put("clone", SeccompFilter.SYS_CLONE);
        used.put("personality", SeccompFilter.SYS_PERSONALITY);
        used.put("clone3", SeccompFilter.SYS_CLONE3);
        used.put("set_mempolicy_home_node", SeccompFilter.LAST_KNOWN);
        SeccompFilterTest.DENIED.forEach(used::put);
        Map<String, String> wrong = new TreeMap<>();
        used.forEach((name, nr) -> {
            if (!nr.equals(kernel.get(name))) {
                wrong.put(name, "filter " + nr + ", kernel " + kernel.get(name));
            }
        });
        assertThat(wrong).isEmpty();
    }
}
