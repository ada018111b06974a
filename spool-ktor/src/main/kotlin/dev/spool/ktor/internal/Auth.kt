package dev.spool.ktor.internal

import io.ktor.http.HttpHeaders
import io.ktor.http.HttpStatusCode
import io.ktor.server.application.ApplicationCall
import java.security.MessageDigest

/** Who may do what, from the configured tokens. Immutable; safe from any thread. */
internal class Auth(adminToken: String?, readToken: String?) {
    private val admin: ByteArray? = adminToken?.let(::digest)
    private val read: ByteArray? = readToken?.let(::digest)

    val adminEnabled: Boolean get() = admin != null
    val readsProtected: Boolean get() = read != null

    /** Throws unless the call may use a route of [access]. */
    fun check(call: ApplicationCall, access: Access) {
        val presented = bearer(call)
        when (access) {
            Access.READ -> {
                if (read == null) return
                if (presented == null || !(matches(presented, read) || (admin != null && matches(presented, admin)))) {
                    throw unauthorized("this route needs the read or admin token as 'Authorization: Bearer <token>'")
                }
            }
            Access.ADMIN -> {
                if (admin == null) {
                    throw ApiError(HttpStatusCode.Forbidden, ErrorCode.ADMIN_DISABLED, "admin actions are off: configure adminToken to enable them")
                }
                if (presented == null || !matches(presented, admin)) {
                    throw unauthorized("admin actions need the admin token as 'Authorization: Bearer <token>'")
                }
            }
        }
    }

    private fun unauthorized(message: String) = ApiError(HttpStatusCode.Unauthorized, ErrorCode.UNAUTHORIZED, message, "Authorization")

    private fun bearer(call: ApplicationCall): ByteArray? {
        val header = call.request.headers[HttpHeaders.Authorization] ?: return null
        if (!header.startsWith("Bearer ", ignoreCase = true)) return null
        return digest(header.substring("Bearer ".length).trim())
    }

    companion object {
        /**
         * Both sides are hashed first, so [MessageDigest.isEqual] always compares 32 bytes: its time
         * depends on neither the token's length nor the position of the first differing byte.
         */
        fun matches(presentedDigest: ByteArray, expectedDigest: ByteArray): Boolean =
            MessageDigest.isEqual(presentedDigest, expectedDigest)

        fun digest(token: String): ByteArray = MessageDigest.getInstance("SHA-256").digest(token.toByteArray(Charsets.UTF_8))
    }
}

/** Which token a route needs. */
internal enum class Access { READ, ADMIN }
