package io.spate.server.metadata;

import io.spate.server.errors.ServiceError;
import io.spate.server.errors.ServiceException;

/**
 * The names a topic may have, by Kafka's rule: 1 to 249 characters of ASCII letters, digits,
 * '.', '_' and '-', and neither "." nor ".." (the name becomes a directory name).
 */
final class TopicNames {
    static final int MAX_LENGTH = 249;

    private TopicNames() {
    }

    static void validate(String name) {
        if (name == null || name.isEmpty()) {
            throw invalid("a topic name may not be empty");
        }
        if (name.equals(".") || name.equals("..")) {
            throw invalid("a topic may not be named '" + name + "'");
        }
        if (name.length() > MAX_LENGTH) {
            throw invalid("topic name '" + name + "' is " + name.length() + " characters long; at most " + MAX_LENGTH + " are allowed");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean legal = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-';
            if (!legal) {
                throw invalid("topic name '" + name + "' holds '" + c + "'; only ASCII letters, digits, '.', '_' and '-' are allowed");
            }
        }
    }

    private static ServiceException invalid(String message) {
        return new ServiceException(ServiceError.INVALID_TOPIC, message);
    }
}
