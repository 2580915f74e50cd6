package io.spate.processing;

import java.util.function.Supplier;

/**
 * Runs a pipeline's code with the pipeline's class loader as the thread's context loader (what
 * ServiceLoader and Jackson look in), and the node's everywhere else: the Kafka clients find
 * their classes through it.
 */
final class CodeLoader {
    private CodeLoader() {
    }

    static <T> T call(ClassLoader codeLoader, Supplier<T> code) {
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        thread.setContextClassLoader(codeLoader);
        try {
            return code.get();
        } finally {
            thread.setContextClassLoader(before);
        }
    }
}
