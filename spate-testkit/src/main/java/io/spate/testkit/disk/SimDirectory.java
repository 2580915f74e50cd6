package io.spate.testkit.disk;

import java.util.Map;
import java.util.TreeMap;

/**
 * A directory's entries as the process sees them, and as the last committed journal left them on
 * the platter. The disk's journal holds the changes in between.
 */
final class SimDirectory extends SimInode {
    final TreeMap<String, SimInode> entries = new TreeMap<>();
    final TreeMap<String, SimInode> durableEntries = new TreeMap<>();

    void setDurably(String name, SimInode node) {
        if (node == null) {
            durableEntries.remove(name);
        } else {
            durableEntries.put(name, node);
        }
    }

    /** After a power loss: the entries are what the platter holds. */
    void revertToDurable() {
        entries.clear();
        entries.putAll(durableEntries);
    }

    Map<String, SimInode> view() {
        return entries;
    }
}
