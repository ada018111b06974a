package dev.spool.queue

import java.io.BufferedReader
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlin.reflect.KClass

/**
 * A child JVM running one of the test `main`s with this test run's classpath. Its stdout is read
 * line by line; its stderr goes to a file, shown when an assertion about the child fails.
 */
class ChildJvm(main: KClass<*>, args: List<String>, workDir: Path) : AutoCloseable {
    private val stderr: Path = Files.createTempFile(workDir, "child-", ".err")
    val process: Process = ProcessBuilder(
        listOf(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx128m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            System.getProperty("java.class.path"),
            main.java.name,
        ) + args,
    ).redirectError(stderr.toFile()).start()

    private val stdout: BufferedReader = process.inputStream.bufferedReader()

    init {
        // A hung child must fail the test, not hang the build: its stdout then ends.
        Thread({ if (!process.waitFor(120, TimeUnit.SECONDS)) process.toHandle().destroyForcibly() }, "child-watchdog")
            .apply { isDaemon = true }
            .start()
    }

    /** The next full line, or fails if the child exited first. */
    fun readLine(): String = stdout.readLine() ?: error("child exited (${exitDescription()}) ${stderrText()}")

    /** Reads lines until one starts with [prefix]; returns it. */
    fun awaitLine(prefix: String): String {
        while (true) {
            val line = readLine()
            if (line.startsWith(prefix)) return line
        }
    }

    /** Sends one line to the child's stdin. */
    fun send(line: String) {
        process.outputStream.write("$line\n".toByteArray())
        process.outputStream.flush()
    }

    /**
     * Kills the child with SIGKILL (what `destroyForcibly` sends on Linux), waits for it, and
     * returns the complete lines it printed before dying (a torn last line is dropped). Uses the
     * [ProcessHandle], because [Process.destroyForcibly] also closes the pipes, losing those lines.
     */
    fun kill(): List<String> {
        process.toHandle().destroyForcibly()
        check(process.waitFor(30, TimeUnit.SECONDS)) { "child did not die" }
        val rest = stdout.readText()
        return rest.split('\n').dropLast(1)
    }

    /** Waits for a normal exit and returns the exit code. */
    fun awaitExit(): Int {
        check(process.waitFor(120, TimeUnit.SECONDS)) { "child did not finish: ${stderrText()}" }
        return process.exitValue()
    }

    fun stderrText(): String = Files.readString(stderr).takeLast(4000)

    private fun exitDescription() = if (process.isAlive) "still alive" else "exit ${process.exitValue()}"

    override fun close() {
        if (process.isAlive) {
            process.destroyForcibly()
            process.waitFor(30, TimeUnit.SECONDS)
        }
    }
}

/** The exit code of a JVM killed by SIGKILL on Linux: 128 + 9. */
const val SIGKILL_EXIT = 137
