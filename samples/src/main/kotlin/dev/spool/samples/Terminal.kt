package dev.spool.samples

import java.io.PrintStream

/**
 * Prints the demo's story: permanent lines, and one status line redrawn in place with a carriage
 * return when [live] (a terminal), or printed as plain lines otherwise (logs, CI).
 */
internal class Terminal(private val out: PrintStream, val live: Boolean) {
    private var statusShown = false

    /** Prints a permanent line, above the status line if one is shown. */
    @Synchronized
    fun say(line: String) {
        if (statusShown) out.print("\r$CLEAR_LINE")
        out.println(line)
        statusShown = false
        out.flush()
    }

    /** Shows [line] as the status: redrawn in place when [live], else printed as a line. */
    @Synchronized
    fun status(line: String) {
        if (live) {
            out.print("\r$CLEAR_LINE$line")
            statusShown = true
        } else {
            out.println(line)
        }
        out.flush()
    }

    /** Ends the status line, keeping its last content. */
    @Synchronized
    fun endStatus() {
        if (statusShown) out.println()
        statusShown = false
        out.flush()
    }

    companion object {
        private const val CLEAR_LINE = "\u001b[2K"

        /** A text progress bar of [width] cells, `[#####.....]`. */
        fun bar(fraction: Double, width: Int = 30): String {
            val filled = (fraction.coerceIn(0.0, 1.0) * width).toInt()
            return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]"
        }
    }
}
