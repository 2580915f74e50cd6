package io.spate.broker.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code spate} command line. */
@Command(name = "spate", mixinStandardHelpOptions = true, version = "Spate 0.1.0",
        description = "A real-time streaming platform that speaks the Apache Kafka protocol.",
        subcommands = {StartCommand.class, TopicCommand.class, TableCommand.class, ProduceCommand.class, ConsumeCommand.class, GroupsCommand.class, TransactionsCommand.class, PipelineCommand.class, ClusterCommand.class, LogCommand.class, CommandLine.HelpCommand.class})
public final class SpateCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The {@code spate} command line, failures reported as {@link FailureReport} says. */
    public static CommandLine commandLine() {
        return FailureReport.install(new CommandLine(new SpateCommand()));
    }

    public static void main(String[] args) {
        ProcessDefaults.apply();
        int exit;
        if (args.length > 0 && args[0].equals("start")) {
            io.spate.broker.StartupPreloader.startOnce();
            String[] startArgs = java.util.Arrays.copyOfRange(args, 1, args.length);
            QuickStartArgs quick = QuickStartArgs.parse(startArgs);
            if (quick != null) {
                // Start-up time counts: plain flags need no picocli at all.
                try {
                    exit = StartCommand.run(quick.configFile(), quick.overrides(), quick.flagSettings());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    exit = 1;
                }
            } else {
                CommandLine start = FailureReport.install(new CommandLine(new StartCommand()).setCommandName("spate start"));
                exit = start.execute(startArgs);
            }
        } else {
            exit = commandLine().execute(args);
        }
        if (exit != 0) {
            System.exit(exit);
        }
    }
}
