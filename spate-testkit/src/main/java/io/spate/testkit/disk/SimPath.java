package io.spate.testkit.disk;

import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A path on a {@link SimDisk}: '/'-separated names, absolute when it starts at the root. */
final class SimPath implements Path {
    private final SimFileSystem fileSystem;
    private final boolean absolute;
    private final String[] names;

    SimPath(SimFileSystem fileSystem, boolean absolute, String[] names) {
        this.fileSystem = fileSystem;
        this.absolute = absolute;
        this.names = names;
    }

    static SimPath parse(SimFileSystem fileSystem, String first, String... more) {
        StringBuilder joined = new StringBuilder(first);
        for (String m : more) {
            if (!m.isEmpty()) {
                joined.append('/').append(m);
            }
        }
        String text = joined.toString();
        if (text.indexOf('\0') >= 0) {
            throw new java.nio.file.InvalidPathException(text, "NUL character");
        }
        List<String> parts = new ArrayList<>();
        for (String part : text.split("/")) {
            if (!part.isEmpty()) {
                parts.add(part);
            }
        }
        return new SimPath(fileSystem, text.startsWith("/"), parts.toArray(String[]::new));
    }

    String[] names() {
        return names;
    }

    private static SimPath check(Path other) {
        if (!(other instanceof SimPath p)) {
            throw new ProviderMismatchException("not a path on a simulated disk: " + other);
        }
        return p;
    }

    @Override
    public FileSystem getFileSystem() {
        return fileSystem;
    }

    @Override
    public boolean isAbsolute() {
        return absolute;
    }

    @Override
    public Path getRoot() {
        return absolute ? new SimPath(fileSystem, true, new String[0]) : null;
    }

    @Override
    public Path getFileName() {
        return names.length == 0 ? null : new SimPath(fileSystem, false, new String[] {names[names.length - 1]});
    }

    @Override
    public Path getParent() {
        if (names.length == 0 || (names.length == 1 && !absolute)) {
            return null;
        }
        return new SimPath(fileSystem, absolute, Arrays.copyOf(names, names.length - 1));
    }

    @Override
    public int getNameCount() {
        return names.length;
    }

    @Override
    public Path getName(int index) {
        return new SimPath(fileSystem, false, new String[] {names[index]});
    }

    @Override
    public Path subpath(int beginIndex, int endIndex) {
        return new SimPath(fileSystem, false, Arrays.copyOfRange(names, beginIndex, endIndex));
    }

    @Override
    public boolean startsWith(Path other) {
        SimPath o = check(other);
        if (o.absolute != absolute || o.names.length > names.length) {
            return false;
        }
        for (int i = 0; i < o.names.length; i++) {
            if (!o.names[i].equals(names[i])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean endsWith(Path other) {
        SimPath o = check(other);
        if (o.absolute) {
            return equals(o);
        }
        if (o.names.length > names.length) {
            return false;
        }
        for (int i = 0; i < o.names.length; i++) {
            if (!o.names[o.names.length - 1 - i].equals(names[names.length - 1 - i])) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Path normalize() {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (n.equals(".")) {
                continue;
            }
            if (n.equals("..") && !out.isEmpty() && !out.getLast().equals("..")) {
                out.removeLast();
            } else if (!(n.equals("..") && absolute)) {
                out.add(n);
            }
        }
        return new SimPath(fileSystem, absolute, out.toArray(String[]::new));
    }

    @Override
    public Path resolve(Path other) {
        SimPath o = check(other);
        if (o.absolute) {
            return o;
        }
        String[] joined = Arrays.copyOf(names, names.length + o.names.length);
        System.arraycopy(o.names, 0, joined, names.length, o.names.length);
        return new SimPath(fileSystem, absolute, joined);
    }

    @Override
    public Path resolve(String other) {
        return resolve(parse(fileSystem, other));
    }

    @Override
    public Path relativize(Path other) {
        SimPath o = check(other);
        if (o.absolute != absolute) {
            throw new IllegalArgumentException("one path is absolute and the other is not");
        }
        int common = 0;
        while (common < names.length && common < o.names.length && names[common].equals(o.names[common])) {
            common++;
        }
        List<String> out = new ArrayList<>();
        for (int i = common; i < names.length; i++) {
            out.add("..");
        }
        out.addAll(Arrays.asList(o.names).subList(common, o.names.length));
        return new SimPath(fileSystem, false, out.toArray(String[]::new));
    }

    @Override
    public URI toUri() {
        return URI.create(fileSystem.provider().getScheme() + ":" + toAbsolutePath());
    }

    @Override
    public Path toAbsolutePath() {
        return absolute ? this : new SimPath(fileSystem, true, names);
    }

    @Override
    public Path toRealPath(LinkOption... options) {
        return toAbsolutePath().normalize();
    }

    @Override
    public WatchKey register(WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) {
        throw new UnsupportedOperationException("a simulated disk has no watch service");
    }

    @Override
    public int compareTo(Path other) {
        return toString().compareTo(check(other).toString());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SimPath p && p.fileSystem == fileSystem && p.absolute == absolute && Arrays.equals(p.names, names);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(names) * 31 + (absolute ? 1 : 0);
    }

    @Override
    public String toString() {
        String joined = String.join("/", names);
        return absolute ? "/" + joined : joined;
    }
}
