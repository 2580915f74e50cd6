package io.spate.http;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The web console's files, packaged in this module's jar under {@code io/spate/http/console/}:
 * plain HTML, CSS and JavaScript modules, no build step and nothing fetched from elsewhere. Read
 * once and kept.
 */
final class ConsoleAssets {
    private static final String ROOT = "console/";
    private final Map<String, Response> cache = new ConcurrentHashMap<>();

    Response get(String name) {
        if (!name.matches("[a-z0-9][a-z0-9._-]*") || name.contains("..")) {
            throw notFound(name);
        }
        Response cached = cache.get(name);
        if (cached != null) {
            return cached;
        }
        byte[] bytes;
        try (InputStream in = ConsoleAssets.class.getResourceAsStream(ROOT + name)) {
            if (in == null) {
                throw notFound(name);
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Response response = new Response(HttpResponseStatus.OK, bytes, contentType(name), Map.of("Cache-Control", "no-cache"));
        cache.put(name, response);
        return response;
    }

    private static ApiError notFound(String name) {
        return new ApiError(HttpResponseStatus.NOT_FOUND, ApiError.NO_SUCH_PATH, "no such console file: " + name);
    }

    static String contentType(String name) {
        String ext = name.substring(name.lastIndexOf('.') + 1);
        return switch (ext) {
            case "html" -> "text/html; charset=utf-8";
            case "css" -> "text/css; charset=utf-8";
            case "js" -> "text/javascript; charset=utf-8";
            case "svg" -> "image/svg+xml";
            case "png" -> "image/png";
            case "ico" -> "image/x-icon";
            default -> "application/octet-stream";
        };
    }
}
