package io.spate.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A request the API refuses, with its HTTP status and an {@code error_code}: the status times 100
 * plus a detail, as Confluent's REST Proxy numbers them (40401: topic not found).
 */
class ApiError extends RuntimeException {
    static final int MALFORMED_REQUEST = 40000;
    static final int MALFORMED_BODY = 40001;
    static final int BAD_PARAMETER = 40002;
    static final int BAD_PARTITION = 40003;
    static final int OFFSET_OUT_OF_RANGE = 40004;
    static final int INTERNAL_TOPIC = 40301;
    static final int CROSS_SITE = 40302;
    static final int NO_SUCH_PATH = 40400;
    static final int TOPIC_NOT_FOUND = 40401;
    static final int METHOD_NOT_ALLOWED = 40500;
    static final int REQUEST_TIMEOUT = 40800;
    static final int BODY_TOO_LARGE = 41300;
    /** 41502: 41500 and 41501 are the REST Proxy's media type and embedded format. */
    static final int UNSUPPORTED_CONTENT_ENCODING = 41502;
    static final int TOO_MANY_BYTES_IN_FLIGHT = 42900;
    static final int TOO_MANY_LIVE_STREAMS = 42901;
    static final int INTERNAL = 50000;

    final HttpResponseStatus status;
    final int errorCode;

    ApiError(HttpResponseStatus status, int errorCode, String message) {
        super(message, null, false, false);
        this.status = status;
        this.errorCode = errorCode;
    }

    static ApiError badRequest(int errorCode, String message) {
        return new ApiError(HttpResponseStatus.BAD_REQUEST, errorCode, message);
    }

    static ApiError internalTopic(String topic) {
        return new ApiError(HttpResponseStatus.FORBIDDEN, INTERNAL_TOPIC, "topic '" + topic
                + "' is internal: only its coordinators write it (as Kafka refuses a produce to it)");
    }

    static ApiError topicNotFound(String topic) {
        return new ApiError(HttpResponseStatus.NOT_FOUND, TOPIC_NOT_FOUND, "topic '" + topic + "' not found");
    }
}
