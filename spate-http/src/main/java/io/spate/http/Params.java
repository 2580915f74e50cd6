package io.spate.http;

import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.List;

/** Query parameters, checked: a bad one is a 400 naming it. */
final class Params {
    private Params() {
    }

    static String string(QueryStringDecoder query, String name, String orElse) {
        List<String> values = query.parameters().get(name);
        return values == null || values.isEmpty() ? orElse : values.getLast();
    }

    static long longValue(QueryStringDecoder query, String name, long orElse, long min, long max) {
        String value = string(query, name, null);
        if (value == null) {
            return orElse;
        }
        try {
            long parsed = Long.parseLong(value.trim());
            if (parsed < min || parsed > max) {
                throw ApiError.badRequest(ApiError.BAD_PARAMETER, name + " must be between " + min + " and " + max + ", not " + parsed);
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(ApiError.BAD_PARAMETER, name + " must be a number, not '" + value + "'");
        }
    }
}
