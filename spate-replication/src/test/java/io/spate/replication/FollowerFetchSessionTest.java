package io.spate.replication;

import io.spate.log.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The follower's side of an incremental fetch session: what each fetch names, and when it starts over. */
class FollowerFetchSessionTest {
    private static final TopicPartition A = new TopicPartition("a", 0);
    private static final TopicPartition B = new TopicPartition("b", 0);
    private static final TopicPartition C = new TopicPartition("c", 3);

    private static FollowerFetchLogic.FetchPosition at(TopicPartition tp, int epoch, long offset) {
        return new FollowerFetchLogic.FetchPosition(tp, epoch, offset, 0, -1, null);
    }

    @Test
    void theFirstFetchNamesEverythingAndLaterOnesOnlyWhatChangedOrLeft() {
        FollowerFetchSession session = new FollowerFetchSession();
        var first = session.next(List.of(at(A, 1, 10), at(B, 1, 20), at(C, 1, 30)));
        assertThat(first.sessionId()).isZero();
        assertThat(first.epoch()).isEqualTo(FollowerFetchSession.INITIAL_EPOCH);
        assertThat(first.toSend()).hasSize(3);
        assertThat(session.onAnswer(first, FollowerFetchSession.Outcome.ANSWERED, 77)).isTrue();

        // A got records, B is unchanged, C moved to a new leader epoch.
        var second = session.next(List.of(at(A, 1, 15), at(B, 1, 20), at(C, 2, 30)));
        assertThat(second.sessionId()).isEqualTo(77);
        assertThat(second.epoch()).isEqualTo(1);
        assertThat(second.toSend()).containsExactly(at(A, 1, 15), at(C, 2, 30));
        assertThat(second.toForget()).isEmpty();
        assertThat(session.onAnswer(second, FollowerFetchSession.Outcome.ANSWERED, 77)).isTrue();

        // Nothing changed: an empty incremental fetch (the leader's long poll covers the whole session).
        var idle = session.next(List.of(at(A, 1, 15), at(B, 1, 20), at(C, 2, 30)));
        assertThat(idle.epoch()).isEqualTo(2);
        assertThat(idle.toSend()).isEmpty();
        assertThat(session.onAnswer(idle, FollowerFetchSession.Outcome.ANSWERED, 77)).isTrue();

        // B is no longer followed from this leader (or waits to truncate): forgotten.
        var third = session.next(List.of(at(A, 1, 15), at(C, 2, 30)));
        assertThat(third.toSend()).isEmpty();
        assertThat(third.toForget()).containsExactly(B);
        assertThat(session.onAnswer(third, FollowerFetchSession.Outcome.ANSWERED, 77)).isTrue();

        // B comes back at the same position: named again, since the leader dropped it.
        var fourth = session.next(List.of(at(A, 1, 15), at(B, 1, 20), at(C, 2, 30)));
        assertThat(fourth.epoch()).isEqualTo(4);
        assertThat(fourth.toSend()).containsExactly(at(B, 1, 20));
    }

    @Test
    void aFetchTheLeaderDidNotTakeChangesNothingAndIsNamedAgain() {
        FollowerFetchSession session = new FollowerFetchSession();
        var first = session.next(List.of(at(A, 1, 10)));
        session.onAnswer(first, FollowerFetchSession.Outcome.ANSWERED, 5);
        var refused = session.next(List.of(at(A, 1, 12)));
        assertThat(session.onAnswer(refused, FollowerFetchSession.Outcome.REFUSED, 0)).isFalse();

        var again = session.next(List.of(at(A, 1, 12)));
        assertThat(again.epoch()).as("the same epoch: the leader did not advance its session").isEqualTo(refused.epoch());
        assertThat(again.toSend()).containsExactly(at(A, 1, 12));
    }

    @Test
    void aLostSessionOrConnectionStartsANewOneWithAFullFetch() {
        FollowerFetchSession session = new FollowerFetchSession();
        session.onAnswer(session.next(List.of(at(A, 1, 10), at(B, 1, 0))), FollowerFetchSession.Outcome.ANSWERED, 9);
        var incremental = session.next(List.of(at(A, 1, 11), at(B, 1, 0)));
        assertThat(session.onAnswer(incremental, FollowerFetchSession.Outcome.SESSION_LOST, 0)).isFalse();

        var full = session.next(List.of(at(A, 1, 11), at(B, 1, 0)));
        assertThat(full.sessionId()).isZero();
        assertThat(full.epoch()).isEqualTo(FollowerFetchSession.INITIAL_EPOCH);
        assertThat(full.toSend()).hasSize(2);
        session.onAnswer(full, FollowerFetchSession.Outcome.ANSWERED, 10);

        assertThat(session.onAnswer(session.next(List.of(at(A, 1, 11), at(B, 1, 0))), FollowerFetchSession.Outcome.SESSION_LOST, 0)).isFalse();
        assertThat(session.next(List.of(at(A, 1, 11))).epoch()).isEqualTo(FollowerFetchSession.INITIAL_EPOCH);

        session.onAnswer(session.next(List.of(at(A, 1, 11))), FollowerFetchSession.Outcome.ANSWERED, 11);
        session.reset(); // a new connection
        var afterReconnect = session.next(List.of(at(A, 1, 11)));
        assertThat(afterReconnect.full()).isTrue();
        assertThat(afterReconnect.toSend()).containsExactly(at(A, 1, 11));
    }

    @Test
    void aLeaderThatGivesNoSessionGetsFullSessionlessFetches() {
        FollowerFetchSession session = new FollowerFetchSession();
        var first = session.next(List.of(at(A, 1, 10), at(B, 1, 0)));
        assertThat(session.onAnswer(first, FollowerFetchSession.Outcome.ANSWERED, 0)).isTrue();
        var next = session.next(List.of(at(A, 1, 10), at(B, 1, 0)));
        assertThat(next.epoch()).isEqualTo(FollowerFetchSession.SESSIONLESS_EPOCH);
        assertThat(next.sessionId()).isZero();
        assertThat(next.toSend()).hasSize(2);
    }
}
