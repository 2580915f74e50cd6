package io.spate.processing;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;

/**
 * The producer id and epoch a transactional producer holds since its {@code initTransactions}:
 * what an exactly-once task stamps on the batches it appends in place, so that a newer instance
 * of the task (whose transactional write put a newer epoch in the output partition) fences them.
 *
 * <p>Why reflection: kafka-clients does not expose them, and asking the transaction coordinator
 * would not do, because it answers with the latest epoch, which a newer instance may already hold:
 * the stamp must be this producer's own. Read from the client's transaction manager, the fields
 * of the pinned kafka-clients version; {@code TransactionsTest} checks them against the
 * coordinator's answer, so a client upgrade that moves them fails the build rather than the fence.
 * When they cannot be read, the task appends unstamped, as before the fence, and says so once.
 */
public record ProducerIdentity(long producerId, short epoch) {
    private static final Logger log = LoggerFactory.getLogger(ProducerIdentity.class);
    private static volatile boolean warned;

    /** The identity {@code producer} holds now, or null when it has none or it cannot be read. */
    public static ProducerIdentity of(Producer<?, ?> producer) {
        if (!(producer instanceof KafkaProducer<?, ?>)) {
            return null;
        }
        try {
            Object manager = field(KafkaProducer.class, "transactionManager").get(producer);
            if (manager == null) {
                return null;
            }
            Object idAndEpoch = field(manager.getClass(), "producerIdAndEpoch").get(manager);
            if (idAndEpoch == null) {
                return null;
            }
            long id = idAndEpoch.getClass().getField("producerId").getLong(idAndEpoch);
            short epoch = idAndEpoch.getClass().getField("epoch").getShort(idAndEpoch);
            return id < 0 ? null : new ProducerIdentity(id, epoch);
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (!warned) {
                warned = true;
                log.warn("the producer id and epoch of a task's transactional producer cannot be read from this kafka-clients ({});"
                        + " exactly-once results appended in place are not fenced by a newer instance's epoch", e.toString());
            }
            return null;
        }
    }

    private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
        Field field = owner.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }
}
