package io.spate.server.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HeartbeatTargetTest {
    private static final List<Integer> VOTERS = List.of(1, 2, 3);

    @Test
    void aVoterAsksTheLeaderItsRaftServerNamesAndAgainAfterARefusalFromIt() {
        HeartbeatTarget target = new HeartbeatTarget(VOTERS, true);
        assertThat(target.next(2)).isEqualTo(2);
        assertThat(target.refused(2, 2)).as("a voter's quorum client needs no nudge").isFalse();
        assertThat(target.next(2)).as("the leader it names refused for now (no fresh quorum contact): asked again").isEqualTo(2);
        target.refused(2, 3);
        assertThat(target.next(3)).as("its Raft server names another now").isEqualTo(3);
        target.failed(3);
        int turn = target.next(3);
        assertThat(turn).as("the voters in turn").isIn(1, 2, 3);
        target.answered(turn);
        assertThat(target.next(1)).as("a voter follows what its Raft server names").isEqualTo(1);
    }

    @Test
    void aNodeThatIsNotAVoterLeavesAVoterThatRefusedEvenWhileItsStaleViewNamesThatOne() {
        HeartbeatTarget target = new HeartbeatTarget(VOTERS, false);
        int stale = 2; // the quorum client last heard of 2, which lost the lead since and stays up
        int leader = 1;
        assertThat(target.next(stale)).isEqualTo(2);
        assertThat(target.refused(2, stale)).as("asks its quorum who leads").isTrue();
        List<Integer> asked = new ArrayList<>();
        for (int attempt = 0; attempt < VOTERS.size() + 1; attempt++) {
            int next = target.next(stale);
            asked.add(next);
            if (next == leader) {
                target.answered(next);
                break;
            }
            target.refused(next, stale);
        }
        assertThat(asked).as("the voters in turn reach the leader").contains(leader);
        for (int beat = 0; beat < 5; beat++) {
            assertThat(target.next(stale)).as("the voter that answered is asked first, whatever the stale view says").isEqualTo(leader);
            target.answered(leader);
        }
        target.failed(leader);
        assertThat(target.next(stale)).as("once it fails, the named one again").isEqualTo(stale);
    }
}
