package io.spate.tables;

/**
 * What an asked-for repair of a table did on the node that ran it: sessions run (one range, one
 * peer each, again while differences remained), how many found the range in sync, how many were
 * abandoned (the peer did not answer in time), and the keys pushed to peers and pulled from them.
 */
public record RepairResult(int sessions, int inSync, int abandoned, long keysPushed, long keysPulled) {
}
