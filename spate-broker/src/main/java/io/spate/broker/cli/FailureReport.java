package io.spate.broker.cli;

import io.spate.log.InvalidConfigException;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * How a command's uncaught exception reaches the user. A failure of the world a command works on
 * (a file it cannot read, a bad setting) is one line on stderr: a stack trace there would only
 * hide the message. Anything else is a bug in Spate, and keeps its stack trace for the report.
 */
final class FailureReport {
    private FailureReport() {
    }

    static CommandLine install(CommandLine cli) {
        cli.setExecutionExceptionHandler((e, command, parsed) -> report(e, command.getErr()));
        return cli;
    }

    static int report(Exception e, PrintWriter err) {
        if (isExpected(e)) {
            err.println("spate: " + describe(e));
        } else {
            err.println("spate: unexpected failure (a bug in Spate; please report it with this trace): " + e);
            e.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    private static boolean isExpected(Throwable e) {
        return e instanceof IOException || e instanceof UncheckedIOException || e instanceof InvalidConfigException
                || e instanceof GroupsCommand.Failure;
    }

    /** One line for {@code e}: the file system's exceptions carry only a path as their message. */
    static String describe(Throwable e) {
        if (e instanceof UncheckedIOException unchecked) {
            return describe(unchecked.getCause());
        }
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof AccessDeniedException) {
            return "permission denied: " + message;
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory: " + message;
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory: " + message;
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists: " + message;
        }
        return message;
    }
}
