package io.spate.cluster.ratis;

import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.server.impl.ServerImplUtils;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Fails when a Ratis upgrade moves the leader-side classes out of the packages the preloader reads. */
class LeaderClassPreloaderTest {
    @Test
    void findsAndLoadsTheLeaderSideClassesInRatisJars() {
        assertThat(LeaderClassPreloader.loadAll(ServerImplUtils.class)).as("ratis-server's impl, leader and metrics classes").isGreaterThan(80);
        assertThat(LeaderClassPreloader.loadAll(GrpcLogAppender.class)).as("ratis-grpc's server and metrics classes").isGreaterThan(30);
    }
}
