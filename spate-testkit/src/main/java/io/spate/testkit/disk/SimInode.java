package io.spate.testkit.disk;

/** A file or a directory of a {@link SimDisk}. */
abstract sealed class SimInode permits SimFile, SimDirectory {
}
