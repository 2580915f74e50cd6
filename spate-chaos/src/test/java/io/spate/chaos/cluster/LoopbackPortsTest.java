package io.spate.chaos.cluster;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** Two JVMs taking ports at once never get the same one (two test modules, or two checkouts). */
class LoopbackPortsTest {
    private static final int PORTS = 300;

    @Test
    void anotherJvmNeverHandsOutAPortThisOneHasHandedOut() throws Exception {
        Set<Integer> mine = new HashSet<>();
        for (int i = 0; i < PORTS; i++) {
            mine.add(LoopbackPorts.free());
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process other = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                TakePorts.class.getName(), String.valueOf(PORTS)).redirectErrorStream(true).start();
        String out = new String(other.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(other.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(other.exitValue()).as(out).isZero();
        Set<Integer> theirs = Arrays.stream(out.trim().split("\\s+")).map(Integer::valueOf).collect(Collectors.toSet());

        assertThat(mine).hasSize(PORTS);
        assertThat(theirs).hasSize(PORTS).doesNotContainAnyElementsOf(mine);
        int ephemeralLow = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0)
                .trim().split("\\s+")[0]);
        assertThat(List.copyOf(mine)).allSatisfy(p -> assertThat(p).isBetween(10_000, ephemeralLow - 1));
    }

    /** The other JVM: prints the ports it was handed. */
    public static final class TakePorts {
        public static void main(String[] args) throws IOException {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < Integer.parseInt(args[0]); i++) {
                out.append(LoopbackPorts.free()).append('\n');
            }
            System.out.print(out);
        }
    }
}
