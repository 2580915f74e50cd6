package io.spate.stream.engine;

import io.spate.stream.Pipeline;

import java.lang.reflect.InvocationTargetException;
import java.util.Map;

/** Runs a pipeline's {@code define} and turns the graph it builds into a {@link CompiledPipeline}. */
public final class PipelineCompiler {
    private PipelineCompiler() {
    }

    /**
     * @throws IllegalArgumentException or IllegalStateException when the pipeline is not valid
     *                                  (a topic read twice, a name used twice, a serde missing where
     *                                  a repartition, store or sink needs one)
     */
    public static CompiledPipeline compile(String pipelineName, Pipeline pipeline, Map<String, String> settings) {
        GraphBuilder builder = new GraphBuilder(pipelineName, settings);
        pipeline.define(builder);
        return builder.build();
    }

    /** Instantiates a pipeline class by name through its public no-arg constructor. */
    public static Pipeline instantiate(String className, ClassLoader loader) {
        try {
            Class<?> c = Class.forName(className, true, loader);
            if (!Pipeline.class.isAssignableFrom(c)) {
                throw new IllegalArgumentException(className + " does not implement " + Pipeline.class.getName());
            }
            return (Pipeline) c.getConstructor().newInstance();
        } catch (ClassNotFoundException | NoSuchMethodException | InstantiationException | IllegalAccessException e) {
            throw new IllegalArgumentException("cannot instantiate pipeline " + className + ": " + e, e);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException("the constructor of pipeline " + className + " threw " + e.getCause(), e.getCause());
        }
    }
}
