package dev.spool.ktor.internal

import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.add
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import kotlinx.serialization.json.putJsonArray
import kotlinx.serialization.json.putJsonObject

/**
 * The shape of a JSON body, as OpenAPI 3.0 schema objects: the one description the document is
 * generated from. [SchemaSpec][dev.spool.ktor] checks real responses against it, so the encoders in
 * `json.kt` cannot drift from it.
 */
internal sealed class Schema {
    abstract fun toJson(): JsonObject

    class Ref(val name: String) : Schema() {
        override fun toJson() = buildJsonObject { put("\$ref", "#/components/schemas/$name") }
    }

    class Str(private val format: String? = null, private val enum: List<String>? = null) : Schema() {
        override fun toJson() = buildJsonObject {
            put("type", "string")
            format?.let { put("format", it) }
            enum?.let { values -> putJsonArray("enum") { values.forEach { add(it) } } }
        }
    }

    class Integer(private val format: String = "int64") : Schema() {
        override fun toJson() = buildJsonObject {
            put("type", "integer")
            put("format", format)
        }
    }

    object Bool : Schema() {
        override fun toJson() = buildJsonObject { put("type", "boolean") }
    }

    /** Any JSON value (a task's payload). */
    object AnyValue : Schema() {
        override fun toJson() = buildJsonObject { put("description", "any JSON value") }
    }

    class Arr(private val items: Schema) : Schema() {
        override fun toJson() = buildJsonObject {
            put("type", "array")
            put("items", items.toJson())
        }
    }

    /** An object with free keys whose values all have the shape [values]. */
    class MapOf(private val values: Schema) : Schema() {
        override fun toJson() = buildJsonObject {
            put("type", "object")
            put("additionalProperties", values.toJson())
        }
    }

    class Obj(private val properties: List<Property>) : Schema() {
        override fun toJson() = buildJsonObject {
            put("type", "object")
            putJsonArray("required") { properties.forEach { add(it.name) } }
            putJsonObject("properties") {
                for (p in properties) {
                    put(p.name, buildJsonObject {
                        // A $ref cannot carry siblings in OpenAPI 3.0: wrap it in allOf.
                        if (p.schema is Ref) putJsonArray("allOf") { add(p.schema.toJson()) } else p.schema.toJson().forEach { (k, v) -> put(k, v) }
                        if (p.nullable) put("nullable", true)
                        p.description?.let { put("description", it) }
                    })
                }
            }
            put("additionalProperties", false)
        }
    }

    /** One property of an [Obj]: always present in the body, null only if [nullable]. */
    class Property(val name: String, val schema: Schema, val nullable: Boolean, val description: String?)
}

/** Builds an [Schema.Obj]: `obj { "id"(Schema.Integer()); "error".nullable(Schema.Str()) }`. */
internal fun obj(block: ObjBuilder.() -> Unit): Schema.Obj = Schema.Obj(ObjBuilder().apply(block).properties)

internal class ObjBuilder {
    val properties = mutableListOf<Schema.Property>()

    operator fun String.invoke(schema: Schema, description: String? = null) {
        properties += Schema.Property(this, schema, nullable = false, description = description)
    }

    fun String.nullable(schema: Schema, description: String? = null) {
        properties += Schema.Property(this, schema, nullable = true, description = description)
    }
}
