package io.spate.processing;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The committed position's metadata carries the stream time and where exactly-once positions are anchored. */
class AnchorMetadataTest {
    @Test
    void theAnchorAndTheStreamTimeShareTheMetadataAndAreReadBack() {
        AnchoredOutput.Anchor anchor = new AnchoredOutput.Anchor(new TopicPartition("out.a-b_1", 4), 1234);
        String metadata = PositionStore.metadata(99, anchor);
        assertThat(metadata).isEqualTo("st=99;out=out.a-b_1/4@1234");
        assertThat(AnchoredOutput.Anchor.parse(metadata)).isEqualTo(anchor);
        assertThat(PositionStore.streamTimeOf(new OffsetAndMetadata(7, metadata))).isEqualTo(99);
    }

    @Test
    void withoutAStreamTimeOrAnAnchorEachPartStandsAlone() {
        AnchoredOutput.Anchor anchor = new AnchoredOutput.Anchor(new TopicPartition("o", 0), 0);
        assertThat(PositionStore.metadata(Long.MIN_VALUE, anchor)).isEqualTo("out=o/0@0");
        assertThat(AnchoredOutput.Anchor.parse("out=o/0@0")).isEqualTo(anchor);
        assertThat(PositionStore.streamTimeOf(new OffsetAndMetadata(7, "out=o/0@0"))).isEqualTo(Long.MIN_VALUE);
        assertThat(PositionStore.metadata(5, null)).isEqualTo("st=5");
        assertThat(AnchoredOutput.Anchor.parse("st=5")).isNull();
        assertThat(AnchoredOutput.Anchor.parse("out=garbage")).isNull();
        assertThat(AnchoredOutput.Anchor.parse(null)).isNull();
    }
}
