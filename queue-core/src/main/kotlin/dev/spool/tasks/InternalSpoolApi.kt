package dev.spool.tasks

/**
 * Marks declarations that are public only for Spool's own modules (such as the PostgreSQL
 * TaskQueue sharing the SQLite TaskQueue's validation and schedule arithmetic); they carry no
 * compatibility promise and may change or disappear in any release.
 *
 * Using one is a compile error unless the caller opts in (`@OptIn(InternalSpoolApi::class)` or the
 * compiler argument `-opt-in=dev.spool.tasks.InternalSpoolApi`), as with kotlinx.coroutines'
 * `InternalCoroutinesApi`. Applications should not.
 */
@RequiresOptIn(
    level = RequiresOptIn.Level.ERROR,
    message = "This is an internal Spool API for Spool's own modules; no compatibility promise",
)
@Retention(AnnotationRetention.BINARY)
@Target(
    AnnotationTarget.CLASS,
    AnnotationTarget.FUNCTION,
    AnnotationTarget.PROPERTY,
    AnnotationTarget.TYPEALIAS,
)
@MustBeDocumented
public annotation class InternalSpoolApi
