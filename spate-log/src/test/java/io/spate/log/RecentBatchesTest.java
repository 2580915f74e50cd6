package io.spate.log;

import io.spate.record.RecordBatch;
import io.spate.record.TestBatches;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class RecentBatchesTest {
    @TempDir
    Path dir;

    @Test
    void answersForTheBatchesItHoldsAndOnlyThose() {
        RecentBatches recent = new RecentBatches();
        assertThat(recent.positionOf(0, 100)).as("nothing held").isEqualTo(RecentBatches.UNKNOWN);
        recent.add(1, 0);    // offsets 0..1 at byte 0
        recent.add(4, 100);  // 2..4 at 100
        recent.add(9, 250);  // a gap (compacted away), then ..9 at 250
        assertThat(recent.positionOf(0, 400)).isZero();
        assertThat(recent.positionOf(3, 400)).isEqualTo(100);
        assertThat(recent.positionOf(5, 400)).as("in the gap: the next batch").isEqualTo(250);
        assertThat(recent.positionOf(10, 400)).as("past the last batch").isEqualTo(-1);
        assertThat(recent.positionOf(5, 250)).as("the batch at the limit is not below it").isEqualTo(-1);
        assertThat(recent.positionOf(3, 250)).isEqualTo(100);

        recent.truncateToPosition(100);
        assertThat(recent.positionOf(3, 400)).isEqualTo(-1);
        recent.add(2, 100);
        assertThat(recent.positionOf(2, 400)).isEqualTo(100);
    }

    @Test
    void aBatchPushedOutOfTheRingMakesTheOldestAnswersUnknown() {
        RecentBatches recent = new RecentBatches();
        for (int i = 0; i <= RecentBatches.CAPACITY; i++) {
            recent.add(i, i * 10);
        }
        int limit = (RecentBatches.CAPACITY + 1) * 10;
        assertThat(recent.positionOf(0, limit)).as("pushed out").isEqualTo(RecentBatches.UNKNOWN);
        assertThat(recent.positionOf(1, limit)).as("held, but so might an older batch be").isEqualTo(RecentBatches.UNKNOWN);
        assertThat(recent.positionOf(2, limit)).isEqualTo(20);
        assertThat(recent.positionOf(RecentBatches.CAPACITY, limit)).isEqualTo(RecentBatches.CAPACITY * 10);
    }

    /** Random appends, cuts and reloads: every answer from memory is the one the file walk gives. */
    @Test
    void segmentPositionsFromMemoryAgreeWithTheFileWalk() throws IOException {
        Random random = new Random(42);
        LogSegment segment = LogSegment.create(dir, 1000, 256);
        long next = 1000;
        for (int round = 0; round < 400; round++) {
            int action = random.nextInt(10);
            if (action < 7) {
                int records = 1 + random.nextInt(4);
                String[] values = new String[records];
                for (int i = 0; i < records; i++) {
                    values[i] = "v" + round + "-" + i;
                }
                ByteBuffer batch = TestBatches.batch(round, values);
                long base = next + (random.nextInt(5) == 0 ? random.nextInt(3) : 0); // gaps as compaction leaves them
                RecordBatch.of(batch).assign(base, 0);
                segment.append(batch, 0);
                next = base + records;
            } else if (action == 7 && next > 1001) {
                long cut = 1000 + random.nextInt((int) (next - 1000));
                int position = segment.walkedPositionOf(cut, segment.size());
                if (position >= 0 && startsAt(segment, position, cut)) {
                    segment.cutAt(position, cut);
                    next = cut;
                }
            } else if (action == 8) {
                segment.close();
                segment = LogSegment.open(dir.resolve(LogSegment.fileName(1000)), 256);
                segment.load(random.nextBoolean(), null);
                next = segment.nextOffset();
            }
            int size = segment.size();
            for (long offset = 995; offset <= next + 2; offset++) {
                int limit = random.nextBoolean() ? size : Math.max(0, segment.walkedPositionOf(1000 + random.nextInt((int) (next - 998)), size));
                assertThat(segment.positionOf(offset, limit)).as("offset %d below byte %d, round %d", offset, limit, round)
                        .isEqualTo(segment.walkedPositionOf(offset, limit));
            }
        }
        segment.close();
    }

    private static boolean startsAt(LogSegment segment, int position, long offset) throws IOException {
        return segment.readBytes(position, RecordBatch.LOG_OVERHEAD).getLong(RecordBatch.BASE_OFFSET_OFFSET) == offset;
    }
}
