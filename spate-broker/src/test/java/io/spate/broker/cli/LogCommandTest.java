package io.spate.broker.cli;

import io.spate.log.LogManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code spate log ...} through the same command line as {@code main}, on real data directories. */
class LogCommandTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
    }

    static Run spate(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = SpateCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void aMissingDataDirectoryIsAnErrorAndIsNotCreated() {
        Path typo = dir.resolve("spate-dta");
        for (String[] args : new String[][]{{"log", "check", "--data-dir", typo.toString()},
                {"log", "set-aside-corrupt", "--data-dir", typo.toString(), "--partition", "orders-0"}}) {
            Run run = spate(args);
            assertThat(run.exit()).as(run.err()).isEqualTo(2);
            assertThat(run.err()).isEqualTo("spate: no data directory at " + typo.toAbsolutePath() + System.lineSeparator());
            assertThat(typo).doesNotExist();
        }
    }

    @Test
    void aDirectoryInUseByARunningNodeIsOneLineNotAStackTrace() throws Exception {
        try (LogManager running = LogManager.open(dir, Clock.systemUTC(), Long.MAX_VALUE / 4)) {
            Files.createDirectories(dir.resolve("orders-0"));
            for (String[] args : new String[][]{{"log", "check", "--data-dir", dir.toString()},
                    {"log", "set-aside-corrupt", "--data-dir", dir.toString(), "--partition", "orders-0"}}) {
                Run run = spate(args);
                assertThat(run.exit()).as(run.err()).isEqualTo(2);
                assertThat(run.err().strip()).contains("is in use by another Spate node; stop that node first").doesNotContain("\n");
            }
        }
        Run stopped = spate("log", "check", "--data-dir", dir.toString());
        assertThat(stopped.exit()).as(stopped.err()).isZero();
        assertThat(stopped.out()).contains("orders-0\tok\toffsets 0..0");
    }

    @Test
    void aFailureOfTheFileSystemIsOneLineAndABugKeepsItsStackTrace() {
        StringWriter expected = new StringWriter();
        assertThat(FailureReport.report(new AccessDeniedException("/var/spate"), new PrintWriter(expected))).isEqualTo(1);
        assertThat(expected.toString()).isEqualTo("spate: permission denied: /var/spate" + System.lineSeparator());

        StringWriter bug = new StringWriter();
        assertThat(FailureReport.report(new IllegalStateException("broken invariant"), new PrintWriter(bug))).isEqualTo(1);
        assertThat(bug.toString()).contains("unexpected failure", "broken invariant", "\tat io.spate.broker.cli.LogCommandTest");
    }
}
