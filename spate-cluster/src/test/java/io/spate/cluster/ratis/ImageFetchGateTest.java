package io.spate.cluster.ratis;

import org.apache.ratis.protocol.RaftPeerId;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ImageFetchGate} on histories given to it, time in milliseconds: one fetch at a time, a
 * non-voter's fetch to the voter answering its heartbeats, and a fetch stuck on a paused former
 * leader passed over (6-node campaign, seed 711: a non-voter learned its new leaderships seconds late).
 */
class ImageFetchGateTest {
    private static final long ELECTION_MS = 300;
    private static final RaftPeerId ONE = RaftPeerId.valueOf("n1");
    private static final RaftPeerId TWO = RaftPeerId.valueOf("n2");

    private static long ms(long millis) {
        return millis * 1_000_000L;
    }

    private static ImageFetchGate nonVoter() {
        return new ImageFetchGate(false, ms(ELECTION_MS));
    }

    @Test
    void oneFetchAtATimeAndOneAskedForMeanwhileGoesWhenItEnds() {
        ImageFetchGate gate = nonVoter();
        gate.heartbeatAnsweredBy(ONE);
        ImageFetchGate.Fetch first = gate.ask(ms(0));
        assertThat(first).isNotNull();
        assertThat(first.target()).isEqualTo(ONE);
        assertThat(gate.ask(ms(1))).as("one in flight").isNull();
        assertThat(gate.ask(ms(2))).isNull();

        ImageFetchGate.Fetch second = gate.ended(first.generation(), ms(10));
        assertThat(second).as("asked for meanwhile: goes now, from what the first brought").isNotNull();
        assertThat(second.generation()).isGreaterThan(first.generation());
        assertThat(gate.ended(second.generation(), ms(20))).as("nothing asked for meanwhile").isNull();
        assertThat(gate.ask(ms(21))).isNotNull();
    }

    @Test
    void aFetchStuckOnAFormerLeaderIsPassedOverAfterAnElectionTimeout() {
        ImageFetchGate gate = nonVoter();
        gate.heartbeatAnsweredBy(ONE);
        ImageFetchGate.Fetch stuck = gate.ask(ms(0)); // n1 is paused with it
        gate.heartbeatAnsweredBy(TWO); // n2 leads now

        assertThat(gate.ask(ms(ELECTION_MS - 1))).as("not yet an election timeout").isNull();
        ImageFetchGate.Fetch around = gate.ask(ms(ELECTION_MS));
        assertThat(around).isNotNull();
        assertThat(around.target()).isEqualTo(TWO);

        assertThat(gate.ask(ms(ELECTION_MS + 1))).as("the new fetch is in flight").isNull();
        assertThat(gate.ended(stuck.generation(), ms(3_000))).as("the passed-over fetch's end decides nothing").isNull();
        assertThat(gate.ask(ms(3_001))).as("still the new one in flight").isNull();
        ImageFetchGate.Fetch next = gate.ended(around.generation(), ms(3_002));
        assertThat(next).as("asked for while the new one was out").isNotNull();
        assertThat(next.target()).isEqualTo(TWO);
    }

    @Test
    void aSlowFetchToTheVoterStillAnsweringIsWaitedFor() {
        ImageFetchGate gate = nonVoter();
        gate.heartbeatAnsweredBy(ONE);
        ImageFetchGate.Fetch slow = gate.ask(ms(0));
        gate.heartbeatAnsweredBy(ONE);
        assertThat(gate.ask(ms(2_000))).as("the leader answers heartbeats: its fetch is only slow").isNull();
        assertThat(gate.ended(slow.generation(), ms(2_500))).isNotNull();
    }

    @Test
    void aVoterFetchesFromItsRaftClientsLeaderAndNeverPassesOver() {
        ImageFetchGate gate = new ImageFetchGate(true, ms(ELECTION_MS));
        gate.heartbeatAnsweredBy(ONE);
        ImageFetchGate.Fetch first = gate.ask(ms(0));
        assertThat(first.target()).as("a voter's Raft client follows its own server's view").isNull();
        gate.heartbeatAnsweredBy(TWO);
        assertThat(gate.ask(ms(10_000))).isNull();
        assertThat(gate.ended(first.generation(), ms(10_001)).target()).isNull();
    }

    @Test
    void aFetchNeverSentLetsTheNextGo() {
        ImageFetchGate gate = nonVoter();
        ImageFetchGate.Fetch unsent = gate.ask(ms(0));
        assertThat(unsent.target()).as("no heartbeat answered yet: the Raft client's leader").isNull();
        gate.notSent(unsent.generation());
        assertThat(gate.ask(ms(1))).isNotNull();
    }
}
