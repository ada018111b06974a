package dev.spool.engine

import java.lang.reflect.InvocationHandler
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Proxy
import java.sql.Connection
import java.sql.PreparedStatement
import java.sql.Statement

/**
 * Wraps [connection] so that [observer] sees the SQL of every statement executed through it.
 * Used by tests to prove what the hot path runs; never on by default.
 */
internal fun recording(connection: Connection, observer: (String) -> Unit): Connection =
    proxy(connection) { method, args ->
        val result = method.invoke(connection, *args)
        when {
            method.name == "prepareStatement" && result is PreparedStatement -> {
                val sql = args[0] as String
                proxy(result) { m, a ->
                    if (m.name.startsWith("execute")) observer(sql)
                    m.invoke(result, *a)
                }
            }
            method.name == "createStatement" && result is Statement -> proxy(result) { m, a ->
                if (m.name.startsWith("execute") && a.isNotEmpty() && a[0] is String) observer(a[0] as String)
                m.invoke(result, *a)
            }
            else -> result
        }
    }

private inline fun <reified T : Any> proxy(
    target: T,
    crossinline handler: (java.lang.reflect.Method, Array<Any?>) -> Any?,
): T {
    val interfaces = if (target is PreparedStatement) arrayOf(PreparedStatement::class.java) else arrayOf(T::class.java)
    return Proxy.newProxyInstance(T::class.java.classLoader, interfaces, InvocationHandler { _, method, args ->
        try {
            handler(method, args ?: emptyArray())
        } catch (e: InvocationTargetException) {
            throw e.targetException
        }
    }) as T
}
