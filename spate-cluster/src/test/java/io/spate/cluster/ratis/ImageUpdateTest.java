package io.spate.cluster.ratis;

import io.spate.cluster.ClusterImage;
import io.spate.cluster.MetadataCodec;
import io.spate.cluster.MetadataCommand;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node that is not a voter reaches, from the entries it missed, the very image the voters
 * reached by applying them: the same transitions, the same refusal of a deposed controller's
 * decision and of unreadable bytes.
 */
class ImageUpdateTest {
    private record Applied(ClusterImage image, List<RecentEntries.Entry> entries) {
    }

    /** A voter's run over seven entries in term 2 from index 1, with a stale decision (term 1) and unreadable bytes among them. */
    private static Applied voterRun() {
        List<byte[]> log = new ArrayList<>();
        log.add(MetadataCodec.encode(new MetadataCommand.RegisterNode(1, "127.0.0.1", 9091, 11)));
        log.add(MetadataCodec.encode(new MetadataCommand.RegisterNode(2, "127.0.0.1", 9092, 12)));
        log.add(MetadataCodec.encode(new MetadataCommand.CreateTopic("t", UUID.randomUUID(), List.of(List.of(1, 2), List.of(2, 1)), Map.of())));
        log.add(MetadataCodec.encodeDecidedIn(1, new MetadataCommand.FenceNode(2, 12))); // decided by a controller of term 1: refused
        log.add(new byte[]{(byte) 0x7f, 1, 2, 3});                                      // unreadable: refused alike
        log.add(MetadataCodec.encode(new MetadataCommand.AllocateProducerIds(1, 1000)));
        log.add(MetadataCodec.encode(new MetadataCommand.FenceNode(2, 12)));
        ClusterImage image = ClusterImage.EMPTY;
        List<RecentEntries.Entry> entries = new ArrayList<>();
        long index = 0;
        for (byte[] data : log) {
            index++;
            image = MetadataStateMachine.applyEntry(image, data, 2, index).image();
            entries.add(new RecentEntries.Entry(index, 2, data));
        }
        return new Applied(image, entries);
    }

    @Test
    void theMissedEntriesBringAnOlderImageToTheVotersOne() {
        Applied voter = voterRun();
        assertThat(voter.image().version()).isEqualTo(7);
        ClusterImage atThree = ClusterImage.EMPTY;
        for (RecentEntries.Entry entry : voter.entries().subList(0, 3)) {
            atThree = MetadataStateMachine.applyEntry(atThree, entry.data(), entry.term(), entry.index()).image();
        }
        ImageUpdate update = ImageUpdate.decode(ImageUpdate.encode(voter.image(), voter.entries().subList(3, 7)).asReadOnlyByteBuffer());
        assertThat(update.isWholeImage()).isFalse();
        assertThat(update.version()).isEqualTo(7);
        ClusterImage caughtUp = update.applyTo(atThree);
        assertThat(caughtUp).isEqualTo(voter.image());
        assertThat(MetadataCodec.encode(caughtUp)).isEqualTo(MetadataCodec.encode(voter.image()));
        assertThat(caughtUp.node(2).fenced()).isTrue();
        assertThat(update.applyTo(voter.image())).as("entries it holds already are passed over").isEqualTo(voter.image());
    }

    @Test
    void theWholeImageGoesWhenTheEntriesAreNotAllHeldOrWouldBeLarger() {
        Applied voter = voterRun();
        ImageUpdate notHeld = ImageUpdate.decode(ImageUpdate.encode(voter.image(), null).asReadOnlyByteBuffer());
        assertThat(notHeld.isWholeImage()).isTrue();
        assertThat(notHeld.image()).isEqualTo(voter.image());

        List<RecentEntries.Entry> large = List.of(new RecentEntries.Entry(8, 2, new byte[ImageUpdate.MAX_ENTRY_BYTES + 1]));
        assertThat(ImageUpdate.decode(ImageUpdate.encode(voter.image(), large).asReadOnlyByteBuffer()).isWholeImage()).isTrue();
    }
}
