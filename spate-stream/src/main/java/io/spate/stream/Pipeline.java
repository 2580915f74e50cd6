package io.spate.stream;

/**
 * A user's processing pipeline. The implementing class needs a public no-arg constructor: the
 * runtime instantiates it by name and calls {@link #define} once per compilation.
 */
public interface Pipeline {
    void define(PipelineBuilder builder);
}
