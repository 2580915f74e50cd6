package io.spate.stream.examples;

import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;

import java.util.Locale;

/**
 * Bench topology A, stateless, as the Kafka Streams anchor's: {@code events} →
 * {@code filter(amount >= 10)} (90 % pass) → {@code mapValues} to
 * {@code sendMicros,seq,user,TYPE,amount*100} → {@code out-a}, keyed by the user as read. One
 * sub-topology. Settings: {@code in}, {@code out}.
 */
public final class BenchA implements Pipeline {
    @Override
    public void define(PipelineBuilder builder) {
        Serde<String> s = Serdes.string();
        builder.stream(builder.setting("in", "events"), s, s)
                .filter((user, v) -> Integer.parseInt(BenchEvents.field(v, 4)) >= 10)
                .mapValues(BenchA::transform, s)
                .to(builder.setting("out", "out-a"), s, s);
    }

    static String transform(String v) {
        String[] f = v.split(",", 6);
        return f[0] + "," + f[1] + "," + f[2] + "," + f[3].toUpperCase(Locale.ROOT) + "," + (Integer.parseInt(f[4]) * 100);
    }
}
