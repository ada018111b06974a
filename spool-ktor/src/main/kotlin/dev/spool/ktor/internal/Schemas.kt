package dev.spool.ktor.internal

import dev.spool.tasks.MisfirePolicy
import dev.spool.tasks.TaskState

/** The named schemas of the OpenAPI document (its `components/schemas`); `json.kt` encodes each. */
internal object Schemas {
    private val instant = Schema.Str(format = "date-time")
    private val count = Schema.Integer("int32")
    private val long = Schema.Integer("int64")
    private val state = Schema.Ref("TaskState")

    val all: Map<String, Schema> = linkedMapOf(
        "TaskState" to Schema.Str(enum = TaskState.entries.map { it.name }),
        "Error" to obj {
            "error"(Schema.Str(enum = ErrorCode.entries.map { it.wire }), "A stable machine-readable code")
            "message"(Schema.Str(), "For people; never a stack trace")
            "field".nullable(Schema.Str(), "The parameter or header at fault, if one is")
        },
        "Queues" to obj {
            "queues"(Schema.Arr(obj {
                "name"(Schema.Str())
                "kind"(Schema.Str(enum = listOf("offline", "tasks")))
            }))
            "adminEnabled"(Schema.Bool, "Whether admin actions are configured")
            "readsProtected"(Schema.Bool, "Whether read routes need a token")
        },
        "Overview" to obj {
            "offline"(Schema.Arr(obj {
                "name"(Schema.Str())
                "size"(count, "Rows in the queue, from the count the writer keeps")
                "maxQueueSize"(count)
                "oldestEventAgeMs".nullable(long, "Age of the oldest pending event, found through the FIFO index")
            }))
            "tasks"(Schema.Arr(obj {
                "name"(Schema.Str())
                "byState"(Schema.MapOf(count), "Tasks per state, every state present")
                "succeeded"(long)
                "failed"(long)
                "activeWorkers"(count)
                "oldestQueuedAgeMs".nullable(long)
            }))
        },
        "OfflineQueueStats" to obj {
            "size"(count, "Rows in the queue, from the count the writer keeps")
            "totalQueued"(count, "Rows counted on disk")
            "maxQueueSize"(count)
            "totalRetried"(count, "Rows retried at least once")
            "oldestEventAgeMs".nullable(long)
            "pendingAcknowledgements"(count, "Acknowledged rows recorded in deferredSync, not yet deleted")
            "retryDistribution"(Schema.MapOf(count))
            "topEventTypes"(Schema.Arr(obj {
                "type"(Schema.Str())
                "count"(count)
            }))
        },
        "Event" to obj {
            "eventId"(Schema.Str())
            "eventType"(Schema.Str())
            "payload"(Schema.AnyValue, "The event's JSON, embedded; a string if it is not JSON")
            "projectId".nullable(Schema.Str())
            "coalesceKey".nullable(Schema.Str())
            "timestamp"(instant)
            "retryCount"(count)
        },
        "EventPage" to obj {
            "events"(Schema.Arr(Schema.Ref("Event")), "Pending events after the cursor, in upload (FIFO) order")
            "nextCursor".nullable(Schema.Str(), "Pass as cursor for the next page; null on the last page")
            "size"(count, "Rows in the queue")
        },
        "TaskQueueStats" to obj {
            "byState"(Schema.MapOf(count), "Tasks per state, every state present")
            "depth"(Schema.MapOf(Schema.MapOf(count)), "Tasks by type, then by state")
            "oldestQueuedAgeMs".nullable(long)
            "succeeded"(long)
            "failed"(long)
            "activeWorkers"(count)
        },
        "Task" to obj {
            "id"(long)
            "type"(Schema.Str())
            "state"(state)
            "priority"(count)
            "attempts"(count)
            "maxAttempts"(count)
            "payload"(Schema.AnyValue, "The task's JSON payload, embedded")
            "runAfter"(instant)
            "requires"(Schema.Arr(Schema.Str()))
            "idempotencyKey".nullable(Schema.Str())
            "lease".nullable(Schema.Ref("Lease"), "The claim holding the task, while LEASED")
            "leaseOwner".nullable(Schema.Str(), "The worker holding the lease, while LEASED")
            "leaseExpiresAt".nullable(instant)
            "lastError".nullable(Schema.Str())
            "createdAt"(instant)
            "updatedAt"(instant)
        },
        "Lease" to obj {
            "workerId"(Schema.Str())
            "token"(long, "The claim's fencing token: grows with every claim of the task")
        },
        "Transition" to obj {
            "from".nullable(state, "null when the task was enqueued")
            "to"(state)
            "at"(instant)
            "workerId".nullable(Schema.Str())
            "attempt"(count)
            "error".nullable(Schema.Str())
        },
        "TaskDetail" to obj {
            "task"(Schema.Ref("Task"))
            "log"(Schema.Arr(Schema.Ref("Transition")), "Every state change, oldest first")
        },
        "TaskPage" to obj {
            "tasks"(Schema.Arr(Schema.Ref("Task")))
            "nextCursor".nullable(Schema.Str(), "Pass as cursor for the next page; null on the last page")
        },
        "Workers" to obj {
            "workers"(Schema.Arr(obj {
                "workerId"(Schema.Str())
                "capabilities"(Schema.Arr(Schema.Str()))
                "leaseTtlMs"(long)
                "lastHeartbeat"(instant)
                "stale"(Schema.Bool)
            }))
        },
        "Throughput" to obj {
            "intervalMs"(long)
            "samples"(Schema.Arr(obj {
                "at"(instant, "End of the interval")
                "succeeded"(long, "Completions during the interval")
                "failed"(long, "Failed attempts during the interval")
            }), "Oldest first, over the configured window")
        },
        "Purged" to obj { "deleted"(count) },
        "Schedule" to obj {
            "name"(Schema.Str())
            "type"(Schema.Str())
            "payload"(Schema.AnyValue, "The JSON payload of each occurrence, embedded")
            "recurrence"(Schema.Str(), "Such as 'every 5m' or \"cron '0 * * * *' in Z\"")
            "misfire"(Schema.Str(enum = MisfirePolicy.entries.map { it.name }))
            "priority"(count)
            "maxAttempts"(count)
            "requires"(Schema.Arr(Schema.Str()))
            "paused"(Schema.Bool)
            "nextFireAt".nullable(instant)
            "pendingTaskId".nullable(long, "The occurrence enqueued and not yet finished")
            "createdAt"(instant)
        },
        "Schedules" to obj { "schedules"(Schema.Arr(Schema.Ref("Schedule")), "By name") },
    )

    fun ref(name: String): Schema {
        require(name in all) { "no schema named $name" }
        return Schema.Ref(name)
    }
}
