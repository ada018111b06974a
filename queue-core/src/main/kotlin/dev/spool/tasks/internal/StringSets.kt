package dev.spool.tasks.internal

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonPrimitive

/** A set of strings as a sorted JSON array, or null for an empty set (how `requires` is stored). */
internal fun encodeStringsOrNull(values: Set<String>): String? = if (values.isEmpty()) null else encodeStrings(values)

/** A set of strings as a sorted JSON array, `[]` when empty. */
internal fun encodeStrings(values: Set<String>): String = JsonArray(values.sorted().map(::JsonPrimitive)).toString()

/** The set a JSON array of strings holds; empty for null. */
internal fun decodeStrings(json: String?): Set<String> =
    if (json == null) emptySet() else Json.parseToJsonElement(json).jsonArray.mapTo(LinkedHashSet()) { it.jsonPrimitive.content }
