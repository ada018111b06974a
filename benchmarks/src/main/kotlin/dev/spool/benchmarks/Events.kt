package dev.spool.benchmarks

import dev.spool.queue.QueueEvent
import java.util.UUID
import java.util.concurrent.ThreadLocalRandom

/**
 * The events every benchmark writes: a random UUID eventId (as apps use), one of eight event
 * types, and a JSON payload of about 300 bytes.
 *
 * Payloads come from a small precomputed pool, so building an event costs one UUID string and
 * no JSON work. Safe to call from any thread.
 */
public object Events {
    private val types = listOf(
        "page_view", "tap", "scroll", "purchase", "login", "logout", "search", "error",
    )

    private val payloads: List<String> = List(64) { i -> build(i) }

    /** The size in UTF-8 bytes of every pooled payload. */
    public val payloadBytes: Int = payloads.first().toByteArray(Charsets.UTF_8).size

    /** A new random eventId, formatted like [UUID.randomUUID] but without its SecureRandom cost. */
    public fun newId(): String {
        val random = ThreadLocalRandom.current()
        return UUID(random.nextLong(), random.nextLong()).toString()
    }

    /** The event type for the [i]th event. */
    public fun type(i: Int): String = types[i and 7]

    /** The payload for the [i]th event. */
    public fun payload(i: Int): String = payloads[i and 63]

    /** A new event with a random eventId. */
    public fun next(): QueueEvent {
        val i = ThreadLocalRandom.current().nextInt()
        return QueueEvent(newId(), type(i), payload(i))
    }

    private fun build(seed: Int): String {
        val base = """{"screen":"checkout/step-${seed % 7}","session":"s-${100_000 + seed * 7919}",""" +
            """"user":"u-${1_000_000 + seed * 104_729}","app":{"version":"4.12.${seed % 10}",""" +
            """"build":${2_000 + seed},"os":"android-14","locale":"en-GB"},""" +
            """"props":{"cart_items":${seed % 9},"value_minor":${seed * 137 % 100_000},""" +
            """"currency":"EUR","experiment":"exp-${seed % 3}","""
        // Pad to exactly 300 bytes with a note field, then close the objects.
        val padding = 300 - base.length - """"note":""}}""".length
        return base + """"note":"""" + "x".repeat(padding.coerceAtLeast(0)) + """"}}"""
    }
}
