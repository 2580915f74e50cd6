package io.spate.record;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/** Walks the batches laid end to end in a buffer (a produce request's records, a segment read). */
public final class RecordBatches {
    private RecordBatches() {
    }

    /**
     * Validates every batch in {@code records} from its position to its limit and calls
     * {@code visitor} with a view on each. The view is reused between calls.
     *
     * @return the number of batches
     * @throws InvalidRecordBatchException on the first batch that fails validation, or on
     *                                     trailing bytes that are not a whole batch
     */
    public static int validateAll(ByteBuffer records, Consumer<RecordBatch> visitor) {
        RecordBatch batch = new RecordBatch();
        int position = records.position();
        int limit = records.limit();
        int count = 0;
        while (position < limit) {
            batch.wrap(records, position);
            batch.validate(limit - position);
            visitor.accept(batch);
            position += batch.sizeInBytes();
            count++;
        }
        if (count == 0) {
            throw new InvalidRecordBatchException("produce request carries no record batch");
        }
        return count;
    }
}
