package io.spate.broker.cli;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;

/**
 * {@code spate transactions}: the transactions the cluster's coordinators know, over the Kafka
 * protocol only (the admin client's ListTransactions and DescribeTransactions), so an operator
 * sees which transactional ids have a transaction open, since when, and on which partitions.
 */
@Command(name = "transactions", mixinStandardHelpOptions = true,
        description = "List and describe transactions (over the Kafka protocol).",
        subcommands = {TransactionsCommand.ListTransactions.class, TransactionsCommand.Describe.class, CommandLine.HelpCommand.class})
public final class TransactionsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "One line per transactional id: producer id, state (--open: only transactions open now).")
    static final class ListTransactions extends GroupsCommand.Sub {
        @Option(names = "--open", description = "Only transactions open now (Ongoing, or completing).")
        boolean open;

        @Override
        String group() {
            return null;
        }

        @Override
        void run(Admin admin) throws Exception {
            ListTransactionsOptions options = new ListTransactionsOptions();
            if (open) {
                options.filterStates(List.of(TransactionState.ONGOING, TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT));
            }
            List<TransactionListing> listed = new ArrayList<>(admin.listTransactions(options).all().get());
            listed.sort(Comparator.comparing(TransactionListing::transactionalId));
            GroupsCommand.Table table = new GroupsCommand.Table("TRANSACTIONAL-ID", "PRODUCER-ID", "STATE");
            for (TransactionListing t : listed) {
                table.row(t.transactionalId(), String.valueOf(t.producerId()), t.state().toString());
            }
            table.print(out());
        }
    }

    @Command(name = "describe", mixinStandardHelpOptions = true,
            description = "A transactional id's producer, epoch, state, timeout, start and partitions.")
    static final class Describe extends GroupsCommand.Sub {
        @Parameters(paramLabel = "TRANSACTIONAL-ID", description = "The transactional id.")
        String transactionalId;

        @Override
        String group() {
            return transactionalId;
        }

        @Override
        void run(Admin admin) throws Exception {
            TransactionDescription d;
            try {
                d = admin.describeTransactions(List.of(transactionalId)).all().get().get(transactionalId);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TransactionalIdNotFoundException) {
                    throw new GroupsCommand.Failure("transactional id '" + transactionalId + "' does not exist");
                }
                throw e;
            }
            GroupsCommand.Table table = new GroupsCommand.Table("TRANSACTIONAL-ID", "COORDINATOR", "PRODUCER-ID", "EPOCH", "STATE", "TIMEOUT-MS", "STARTED", "PARTITIONS");
            List<String> partitions = d.topicPartitions().stream()
                    .sorted(Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition))
                    .map(TopicPartition::toString).toList();
            table.row(transactionalId, String.valueOf(d.coordinatorId()), String.valueOf(d.producerId()), String.valueOf(d.producerEpoch()),
                    d.state().toString(), String.valueOf(d.transactionTimeoutMs()),
                    d.transactionStartTimeMs().isPresent() ? Instant.ofEpochMilli(d.transactionStartTimeMs().getAsLong()).toString() : "-",
                    partitions.isEmpty() ? "-" : String.join(",", partitions));
            table.print(out());
        }
    }
}
