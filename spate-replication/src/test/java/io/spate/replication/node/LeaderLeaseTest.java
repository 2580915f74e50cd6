package io.spate.replication.node;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class LeaderLeaseTest {
    private static final long MS = 1_000_000L;

    @Test
    void nothingIsTrustedBeforeTheFirstAnsweredHeartbeat() {
        LeaderLease lease = LeaderLease.forSession(1_000);
        assertThat(lease.holds(0)).isFalse();
        assertThat(lease.holds(Long.MAX_VALUE)).isFalse();
    }

    @Test
    void aRenewalLastsFromTheHeartbeatsSendTimeForNinetyPercentOfTheSession() {
        LeaderLease lease = LeaderLease.forSession(1_000);
        long sent = 5_000 * MS;
        lease.renew(sent);
        assertThat(lease.holds(sent)).isTrue();
        assertThat(lease.holds(sent + 899 * MS)).isTrue();
        assertThat(lease.holds(sent + 900 * MS)).isFalse();
        assertThat(lease.holds(sent + 60_000 * MS)).as("a node resumed long after").isFalse();
    }

    @Test
    void anAnswerToAnOlderHeartbeatNeverShortensTheLease() {
        LeaderLease lease = LeaderLease.forSession(1_000);
        lease.renew(2_000 * MS);
        lease.renew(1_500 * MS);
        assertThat(lease.holds(2_800 * MS)).isTrue();
    }

    @Test
    void aFencedAnswerRevokesUntilTheNextRenewal() {
        LeaderLease lease = LeaderLease.forSession(1_000);
        lease.renew(0);
        lease.revoke();
        assertThat(lease.holds(1)).isFalse();
        lease.renew(10 * MS);
        assertThat(lease.holds(11 * MS)).isTrue();
    }

    @Test
    void timesAreComparedAcrossTheNanoTimeWrap() {
        LeaderLease lease = LeaderLease.forSession(1_000);
        long sent = Long.MAX_VALUE - 100 * MS;
        lease.renew(sent);
        assertThat(lease.holds(sent + 500 * MS)).isTrue();
        assertThat(lease.holds(sent + 950 * MS)).isFalse();
    }
}
