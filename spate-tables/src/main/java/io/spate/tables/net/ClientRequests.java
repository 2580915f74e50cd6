package io.spate.tables.net;

import java.util.concurrent.CompletableFuture;

/**
 * What a node does with a request of the native protocol ({@link ClientCodec}): the reply may
 * complete on any thread, and the transport writes it to the connection the request came on.
 */
@FunctionalInterface
public interface ClientRequests {
    CompletableFuture<ClientCodec.Reply> handle(ClientCodec.Request request);

    /** A node that takes no client requests: every one is answered with an error. */
    ClientRequests NONE = request -> CompletableFuture.completedFuture(
            ClientCodec.Reply.failed(request.id(), ClientCodec.Status.ERROR, "this node takes no table requests on this port"));
}
