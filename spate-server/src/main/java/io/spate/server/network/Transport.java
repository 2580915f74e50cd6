package io.spate.server.network;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

import java.util.Locale;

/**
 * The socket layer the Kafka listener runs on ({@code network.transport}): Linux's epoll through
 * Netty's native transport, whose edge-triggered readiness and native wake-ups cost fewer system
 * calls per request than the JDK's selector, or that selector (NIO), which runs everywhere.
 */
public enum Transport {
    EPOLL, NIO;

    /** The setting's values: {@code auto} (epoll where it loads, NIO otherwise), {@code epoll}, {@code nio}. */
    public static final String AUTO = "auto";

    /**
     * The transport a setting names. {@code epoll} where the native transport does not load is
     * refused, with the reason it did not, rather than quietly running on the other one.
     */
    public static Transport of(String setting) {
        return switch (setting.trim().toLowerCase(Locale.ROOT)) {
            case AUTO -> Epoll.isAvailable() ? EPOLL : NIO;
            case "nio" -> NIO;
            case "epoll" -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalArgumentException("network.transport=epoll, but Netty's epoll transport does not load here: "
                            + Epoll.unavailabilityCause());
                }
                yield EPOLL;
            }
            default -> throw new IllegalArgumentException("network.transport must be auto, epoll or nio, not '" + setting + "'");
        };
    }

    EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, handlers());
    }

    private IoHandlerFactory handlers() {
        return this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    Class<? extends ServerChannel> serverChannel() {
        return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
