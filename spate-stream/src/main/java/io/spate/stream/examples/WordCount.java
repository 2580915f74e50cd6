package io.spate.stream.examples;

import io.spate.stream.Named;
import io.spate.stream.Pipeline;
import io.spate.stream.PipelineBuilder;
import io.spate.stream.Serde;
import io.spate.stream.Serdes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Counts words: lines from {@code lines} (setting {@code in}), every update of a word's count to
 * {@code word-counts} (setting {@code out}), keyed by the word, the count as an 8-byte long.
 * Words are re-keyed through the repartition topic {@code <pipeline>-by-word-repartition}; the
 * counts live in the store {@code counts} with the changelog {@code <pipeline>-counts-changelog}.
 */
public final class WordCount implements Pipeline {
    @Override
    public void define(PipelineBuilder builder) {
        Serde<String> s = Serdes.string();
        builder.stream(builder.setting("in", "lines"), s, s)
                .flatMapValues(WordCount::words)
                .withSerdes(s, s)
                .groupBy((key, word) -> word, s, Named.as("by-word"))
                .count(Named.as("counts"))
                .toStream()
                .to(builder.setting("out", "word-counts"), s, Serdes.longs());
    }

    static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        if (line == null) {
            return words;
        }
        for (String w : line.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}']+")) {
            if (!w.isEmpty()) {
                words.add(w);
            }
        }
        return words;
    }
}
