package dev.ignis.worker.gvisor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * gVisor's {@code runsc} on this host, as the startup probe found it: where it is, which release, and
 * the platform the {@code gvisor} driver runs it with.
 *
 * <p>Releases are named by date: Debian's package says {@code runsc version 0.0~20221219.0}, gVisor's own
 * builds {@code runsc version release-20240513.0}. The driver was built and tested with
 * {@value #TESTED} (Debian 12's package, ptrace platform) and refuses anything older. Operators should
 * run a current release: gVisor fixes security bugs in new releases only.
 *
 * <p>Platform: {@code ptrace}, the one that works without hardware virtualization. The KVM platform
 * hangs on a paravirtual {@code /dev/kvm} (kvm_pvm, these development hosts); releases from mid-2023
 * default to {@code systrap}, which this driver has not been tested with, so it names ptrace explicitly.
 *
 * @param binary    the runsc executable
 * @param version   what {@code runsc --version} printed on its first line, e.g. {@code runsc version 0.0~20221219.0}
 * @param buildDate the release date as yyyymmdd, e.g. 20221219
 * @param platform  the platform the driver passes to runsc ({@code --platform})
 */
public record Runsc(Path binary, String version, int buildDate, String platform) {
    /** The release this driver was tested with (Debian 12's runsc package). */
    public static final String TESTED = "0.0~20221219.0";
    /** The oldest release accepted: the tested one. */
    public static final int OLDEST = 20221219;
    /** Where Debian's package installs it. */
    public static final Path DEFAULT = Path.of("/usr/bin/runsc");

    private static final Pattern VERSION = Pattern.compile("runsc version \\S*?(\\d{8})(?:\\.\\d+)?\\s*");

    /**
     * Finds and checks runsc; fails with a message that says what to install when it is missing, does not
     * run, or is older than {@link #OLDEST}.
     */
    public static Runsc probe(Path binary) {
        if (!Files.isRegularFile(binary) || !Files.isExecutable(binary)) {
            throw new IllegalStateException("the gvisor sandbox driver needs gVisor's runsc, which is not at " + binary
                    + ": install it (Debian 12: apt-get install runsc; a current release: https://gvisor.dev/docs/user_guide/install/)");
        }
        String out;
        int exit;
        try {
            Process p = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
            p.getOutputStream().close();
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(binary + " --version did not answer within 10 s");
            }
            exit = p.exitValue();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + binary + " --version: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing " + binary, e);
        }
        if (exit != 0) {
            throw new IllegalStateException(binary + " --version failed (exit " + exit + "): " + out.strip());
        }
        return parse(binary, out);
    }

    /** The probe's verdict on {@code runsc --version}'s output (separate from running it, for tests). */
    static Runsc parse(Path binary, String versionOutput) {
        String first = versionOutput.lines().findFirst().orElse("").strip();
        Matcher m = VERSION.matcher(first);
        if (!m.matches()) {
            throw new IllegalStateException(binary + " is not a gVisor runsc this driver understands: --version said \""
                    + first + "\" (expected e.g. \"runsc version release-20240513.0\")");
        }
        int date = Integer.parseInt(m.group(1));
        if (date < OLDEST) {
            throw new IllegalStateException(binary + " is gVisor " + first.substring("runsc version ".length())
                    + ", older than the oldest release the gvisor driver was tested with (" + TESTED
                    + "): install a current release (https://gvisor.dev/docs/user_guide/install/)");
        }
        return new Runsc(binary, first, date, "ptrace");
    }

    /** The flags every runsc command of the driver starts with (before the subcommand). */
    public List<String> globalFlags(Path stateRoot) {
        return List.of(binary.toString(), "--root", stateRoot.toString(), "--platform", platform);
    }

    /** One line for the worker's startup log. */
    public String describe() {
        return version + " (" + binary + ", platform " + platform + (version.contains(TESTED) ? ", the tested release)"
                : ", untested: the driver was tested with " + TESTED + ")");
    }
}
