package io.spate.testkit.disk;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileTime;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The operations of {@code java.nio.file.Files} on a {@link SimDisk}. One provider per disk, so
 * that a path finds its disk through its file system; every operation holds the disk's monitor.
 */
final class SimFileSystemProvider extends FileSystemProvider {
    private SimFileSystem fileSystem;
    private SimDisk disk;

    void bind(SimFileSystem fileSystem) {
        this.fileSystem = fileSystem;
        this.disk = fileSystem.disk();
    }

    private SimPath check(Path path) {
        if (!(path instanceof SimPath p) || p.getFileSystem() != fileSystem) {
            throw new ProviderMismatchException("not a path on " + disk + ": " + path);
        }
        return p;
    }

    /** The node at {@code path}, holding the disk's monitor; NoSuchFileException when there is none. */
    private SimInode existing(SimPath path) throws IOException {
        SimInode node = disk.lookup(path);
        if (node == null) {
            throw new NoSuchFileException(path.toString());
        }
        return node;
    }

    @Override
    public String getScheme() {
        return "simdisk";
    }

    @Override
    public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
        throw new UnsupportedOperationException("create a simulated disk with SimDisk.create");
    }

    @Override
    public FileSystem getFileSystem(URI uri) {
        return fileSystem;
    }

    @Override
    public Path getPath(URI uri) {
        return fileSystem.getPath(uri.getSchemeSpecificPart());
    }

    @Override
    public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
        return newFileChannel(path, options, attrs);
    }

    @Override
    public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
        SimPath p = check(path);
        boolean append = options.contains(StandardOpenOption.APPEND);
        boolean write = options.contains(StandardOpenOption.WRITE) || append;
        boolean read = options.contains(StandardOpenOption.READ) || !write;
        synchronized (disk) {
            SimInode node = disk.lookup(p);
            if (node instanceof SimDirectory d) {
                if (write) {
                    throw new FileSystemException(path.toString(), null, "Is a directory");
                }
                return new SimFileChannel(disk, null, d, read, false, false);
            }
            if (node != null && options.contains(StandardOpenOption.CREATE_NEW) && write) {
                throw new FileAlreadyExistsException(path.toString());
            }
            SimFile file = (SimFile) node;
            if (file == null) {
                if (!write || !(options.contains(StandardOpenOption.CREATE) || options.contains(StandardOpenOption.CREATE_NEW))) {
                    throw new NoSuchFileException(path.toString());
                }
                SimDirectory parent = disk.parentOf(p);
                file = new SimFile();
                disk.change(List.of(new SimDisk.Edit(parent, SimDisk.nameOf(p), file)));
            } else if (write && options.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
                file.truncate(0);
            }
            return new SimFileChannel(disk, file, null, read, write, append);
        }
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
        SimPath p = check(dir);
        List<Path> children = new ArrayList<>();
        synchronized (disk) {
            SimInode node = existing(p);
            if (!(node instanceof SimDirectory d)) {
                throw new NotDirectoryException(dir.toString());
            }
            for (String name : d.entries.keySet()) {
                children.add(p.resolve(name));
            }
        }
        List<Path> accepted = new ArrayList<>();
        for (Path child : children) {
            if (filter.accept(child)) {
                accepted.add(child);
            }
        }
        return new DirectoryStream<>() {
            private boolean iterated;

            @Override
            public Iterator<Path> iterator() {
                if (iterated) {
                    throw new IllegalStateException("a directory stream iterates once");
                }
                iterated = true;
                return accepted.iterator();
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
        SimPath p = check(dir);
        synchronized (disk) {
            if (disk.lookup(p) != null) {
                throw new FileAlreadyExistsException(dir.toString());
            }
            SimDirectory parent = disk.parentOf(p);
            disk.change(List.of(new SimDisk.Edit(parent, SimDisk.nameOf(p), new SimDirectory())));
        }
    }

    @Override
    public void delete(Path path) throws IOException {
        SimPath p = check(path);
        synchronized (disk) {
            SimInode node = existing(p);
            if (node instanceof SimDirectory d && !d.entries.isEmpty()) {
                throw new DirectoryNotEmptyException(path.toString());
            }
            if (node == disk.root) {
                throw new FileSystemException(path.toString(), null, "the root cannot be deleted");
            }
            disk.change(List.of(new SimDisk.Edit(disk.parentOf(p), SimDisk.nameOf(p), null)));
        }
    }

    @Override
    public void copy(Path source, Path target, CopyOption... options) throws IOException {
        SimPath from = check(source);
        SimPath to = check(target);
        synchronized (disk) {
            SimInode node = existing(from);
            SimDirectory targetParent = replaceableTarget(to, options);
            SimInode copy;
            if (node instanceof SimFile f) {
                SimFile c = new SimFile();
                c.write(0, f.contents());
                copy = c;
            } else {
                copy = new SimDirectory();
            }
            disk.change(List.of(new SimDisk.Edit(targetParent, SimDisk.nameOf(to), copy)));
        }
    }

    @Override
    public void move(Path source, Path target, CopyOption... options) throws IOException {
        SimPath from = check(source);
        SimPath to = check(target);
        synchronized (disk) {
            SimInode node = existing(from);
            if (from.toAbsolutePath().normalize().equals(to.toAbsolutePath().normalize())) {
                return;
            }
            // A rename replaces its target (rename(2)), as Files.move does with ATOMIC_MOVE.
            List<CopyOption> opts = new ArrayList<>(Arrays.asList(options));
            if (opts.contains(StandardCopyOption.ATOMIC_MOVE)) {
                opts.add(StandardCopyOption.REPLACE_EXISTING);
            }
            SimDirectory targetParent = replaceableTarget(to, opts.toArray(CopyOption[]::new));
            disk.change(List.of(new SimDisk.Edit(targetParent, SimDisk.nameOf(to), node),
                    new SimDisk.Edit(disk.parentOf(from), SimDisk.nameOf(from), null)));
        }
    }

    /** The parent of a copy's or move's target, after checking that the target may be (re)placed. */
    private SimDirectory replaceableTarget(SimPath to, CopyOption... options) throws IOException {
        SimInode existing = disk.lookup(to);
        if (existing != null) {
            if (!Arrays.asList(options).contains(StandardCopyOption.REPLACE_EXISTING)) {
                throw new FileAlreadyExistsException(to.toString());
            }
            if (existing instanceof SimDirectory d && !d.entries.isEmpty()) {
                throw new DirectoryNotEmptyException(to.toString());
            }
        }
        return disk.parentOf(to);
    }

    @Override
    public boolean isSameFile(Path path, Path path2) throws IOException {
        SimPath a = check(path);
        SimPath b = check(path2);
        synchronized (disk) {
            return existing(a) == disk.lookup(b);
        }
    }

    @Override
    public boolean isHidden(Path path) {
        return false;
    }

    @Override
    public FileStore getFileStore(Path path) {
        throw new UnsupportedOperationException("a simulated disk has no file store");
    }

    @Override
    public void checkAccess(Path path, AccessMode... modes) throws IOException {
        SimPath p = check(path);
        synchronized (disk) {
            existing(p);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
        SimPath p = check(path);
        if (type != BasicFileAttributeView.class) {
            return null;
        }
        return (V) new BasicFileAttributeView() {
            @Override
            public String name() {
                return "basic";
            }

            @Override
            public BasicFileAttributes readAttributes() throws IOException {
                return attributes(p);
            }

            @Override
            public void setTimes(FileTime lastModifiedTime, FileTime lastAccessTime, FileTime createTime) {
                // a simulated disk keeps no times
            }
        };
    }

    @Override
    @SuppressWarnings("unchecked")
    public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options) throws IOException {
        if (type != BasicFileAttributes.class) {
            throw new UnsupportedOperationException("a simulated disk has basic attributes only, not " + type.getSimpleName());
        }
        return (A) attributes(check(path));
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) throws IOException {
        BasicFileAttributes a = attributes(check(path));
        Map<String, Object> all = new HashMap<>();
        all.put("size", a.size());
        all.put("isRegularFile", a.isRegularFile());
        all.put("isDirectory", a.isDirectory());
        all.put("isSymbolicLink", false);
        all.put("isOther", false);
        all.put("lastModifiedTime", a.lastModifiedTime());
        all.put("lastAccessTime", a.lastAccessTime());
        all.put("creationTime", a.creationTime());
        all.put("fileKey", a.fileKey());
        String names = attributes.startsWith("basic:") ? attributes.substring("basic:".length()) : attributes;
        if (names.equals("*")) {
            return all;
        }
        Map<String, Object> some = new HashMap<>();
        for (String n : names.split(",")) {
            if (all.containsKey(n)) {
                some.put(n, all.get(n));
            }
        }
        return some;
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options) {
        throw new UnsupportedOperationException("a simulated disk keeps no attributes");
    }

    private BasicFileAttributes attributes(SimPath path) throws IOException {
        SimInode node;
        long size;
        synchronized (disk) {
            node = existing(path);
            size = node instanceof SimFile f ? f.size() : 0;
        }
        SimInode key = node;
        return new BasicFileAttributes() {
            @Override
            public FileTime lastModifiedTime() {
                return FileTime.fromMillis(0);
            }

            @Override
            public FileTime lastAccessTime() {
                return FileTime.fromMillis(0);
            }

            @Override
            public FileTime creationTime() {
                return FileTime.fromMillis(0);
            }

            @Override
            public boolean isRegularFile() {
                return key instanceof SimFile;
            }

            @Override
            public boolean isDirectory() {
                return key instanceof SimDirectory;
            }

            @Override
            public boolean isSymbolicLink() {
                return false;
            }

            @Override
            public boolean isOther() {
                return false;
            }

            @Override
            public long size() {
                return size;
            }

            @Override
            public Object fileKey() {
                return key;
            }
        };
    }
}
