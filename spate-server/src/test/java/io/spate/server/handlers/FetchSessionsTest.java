package io.spate.server.handlers;

import io.spate.time.ManualScheduler;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The fetch session cache when it is full: Kafka's eviction rules, on a clock the test moves. */
class FetchSessionsTest {
    private final ManualScheduler clock = new ManualScheduler();
    private final FetchSessions sessions = new FetchSessions(clock, 2);

    @Test
    void aFullCacheOfLiveSessionsServesANewConsumerWithoutASession() {
        FetchSessions.Session first = full(false, 1);
        FetchSessions.Session second = full(false, 1);

        FetchSessions.Context third = sessions.open(0, FetchSessions.INITIAL_EPOCH, partitions(3), List.of(), false);
        assertThat(third.error()).isEqualTo(Errors.NONE);
        assertThat(third.responseSessionId()).as("served sessionless").isZero();
        assertThat(third.targets()).hasSize(3);

        assertThat(next(first, 1).error()).as("the sessions in use stay").isEqualTo(Errors.NONE);
        assertThat(next(second, 1).error()).isEqualTo(Errors.NONE);
        assertThat(sessions.size()).isEqualTo(2);
    }

    @Test
    void aSessionIdleForLongerThanTheEvictionTimeMakesRoom() {
        FetchSessions.Session idle = full(true, 5);
        clock.advance(FetchSessions.EVICTION_MS / 2);
        FetchSessions.Session busy = full(false, 1);
        clock.advance(FetchSessions.EVICTION_MS / 2 + 1);

        FetchSessions.Context fresh = sessions.open(0, FetchSessions.INITIAL_EPOCH, partitions(1), List.of(), false);
        assertThat(fresh.responseSessionId()).as("even a follower's session goes once idle that long").isNotZero();
        assertThat(next(idle, 1).error()).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
        assertThat(next(busy, 1).error()).isEqualTo(Errors.NONE);
    }

    @Test
    void aFollowerTakesTheSlotOfAYoungConsumerSessionButNotOfAnotherFollower() {
        FetchSessions.Session consumer = full(false, 10);
        FetchSessions.Session follower = full(true, 1);

        FetchSessions.Context replica = sessions.open(0, FetchSessions.INITIAL_EPOCH, partitions(1), List.of(), true);
        assertThat(replica.responseSessionId()).isNotZero();
        assertThat(next(consumer, 1).error()).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
        assertThat(next(follower, 1).error()).isEqualTo(Errors.NONE);

        FetchSessions.Context another = sessions.open(0, FetchSessions.INITIAL_EPOCH, partitions(50), List.of(), true);
        assertThat(another.responseSessionId()).as("young follower sessions are evictable by no one").isZero();
    }

    @Test
    void pastItsYouthASessionGoesOnlyForOneWorthMore() {
        FetchSessions.Session follower = full(true, 1);
        FetchSessions.Session small = full(false, 2);
        clock.advance(FetchSessions.EVICTION_MS + 1);
        assertThat(next(follower, 1).error()).isEqualTo(Errors.NONE);
        assertThat(next(small, 1).error()).isEqualTo(Errors.NONE);

        assertThat(sessions.open(0, FetchSessions.INITIAL_EPOCH, partitions(2), List.of(), false).responseSessionId())
                .as("no larger than the smallest consumer session").isZero();
        assertThat(sessions.open(0, FetchSessions.INITIAL_EPOCH, partitions(3), List.of(), false).responseSessionId())
                .as("larger: worth more").isNotZero();
        assertThat(next(small, 2).error()).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
        assertThat(sessions.open(0, FetchSessions.INITIAL_EPOCH, partitions(500), List.of(), false).responseSessionId())
                .as("a consumer never takes a follower's slot while it is in use").isZero();
        assertThat(next(follower, 2).error()).isEqualTo(Errors.NONE);
    }

    private FetchSessions.Session full(boolean privileged, int partitions) {
        FetchSessions.Context context = sessions.open(0, FetchSessions.INITIAL_EPOCH, partitions(partitions), List.of(), privileged);
        assertThat(context.session()).isNotNull();
        return context.session();
    }

    private FetchSessions.Context next(FetchSessions.Session session, int epoch) {
        return sessions.open(session.id, epoch, List.of(), List.of(), session.privileged);
    }

    private static List<FetchTarget> partitions(int count) {
        List<FetchTarget> targets = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            targets.add(new FetchTarget("t", Uuid.ZERO_UUID, p, -1, 0, 1 << 20));
        }
        return targets;
    }
}
