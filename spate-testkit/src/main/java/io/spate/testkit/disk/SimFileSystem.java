package io.spate.testkit.disk;

import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.List;
import java.util.Set;

/** The {@link FileSystem} face of one {@link SimDisk}: one root, '/' as the separator. */
final class SimFileSystem extends FileSystem {
    private final SimFileSystemProvider provider;
    private final SimDisk disk;

    SimFileSystem(SimFileSystemProvider provider, SimDisk disk) {
        this.provider = provider;
        this.disk = disk;
        provider.bind(this);
    }

    SimDisk disk() {
        return disk;
    }

    @Override
    public FileSystemProvider provider() {
        return provider;
    }

    @Override
    public void close() {
        throw new UnsupportedOperationException("a simulated disk lives as long as its simulation");
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public String getSeparator() {
        return "/";
    }

    @Override
    public Iterable<Path> getRootDirectories() {
        return List.of(getPath("/"));
    }

    @Override
    public Iterable<FileStore> getFileStores() {
        return List.of();
    }

    @Override
    public Set<String> supportedFileAttributeViews() {
        return Set.of("basic");
    }

    @Override
    public Path getPath(String first, String... more) {
        return SimPath.parse(this, first, more);
    }

    @Override
    public PathMatcher getPathMatcher(String syntaxAndPattern) {
        int colon = syntaxAndPattern.indexOf(':');
        if (colon < 0 || !syntaxAndPattern.substring(0, colon).equals("regex")) {
            throw new UnsupportedOperationException("a simulated disk matches paths by regex only: " + syntaxAndPattern);
        }
        java.util.regex.Pattern pattern = java.util.regex.Pattern.compile(syntaxAndPattern.substring(colon + 1));
        return path -> pattern.matcher(path.toString()).matches();
    }

    @Override
    public UserPrincipalLookupService getUserPrincipalLookupService() {
        throw new UnsupportedOperationException("a simulated disk has no users");
    }

    @Override
    public WatchService newWatchService() {
        throw new UnsupportedOperationException("a simulated disk has no watch service");
    }

    @Override
    public String toString() {
        return disk.toString();
    }
}
