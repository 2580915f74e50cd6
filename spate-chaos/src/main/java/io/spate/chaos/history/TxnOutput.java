package io.spate.chaos.history;

/**
 * The value the exactly-once pipeline writes for one input record: {@code P@O INPUT LABEL}, the
 * input's partition and offset (its identity: two inputs never share one), the input's value (so
 * that the checker sees what the pipeline read there) and the label of the transaction that wrote
 * it (so that an output is traced to the transaction and its outcome). For example
 * {@code 3@1207 w-1-3-57 t2.1.14}.
 */
public record TxnOutput(int inputPartition, long inputOffset, String inputValue, String label) {

    public String value() {
        return inputPartition + "@" + inputOffset + " " + inputValue + " " + label;
    }

    /** The output a value encodes, or null if it is not one the pipeline writes. */
    public static TxnOutput parse(String value) {
        if (value == null) {
            return null;
        }
        String[] f = value.split(" ");
        int at = f.length == 3 ? f[0].indexOf('@') : -1;
        if (at <= 0) {
            return null;
        }
        try {
            return new TxnOutput(Integer.parseInt(f[0].substring(0, at)), Long.parseLong(f[0].substring(at + 1)), f[1], f[2]);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
