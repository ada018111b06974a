package dev.spool.samples.client

/**
 * Uploads a batch to an ingestion server. [HttpIngestionApi] is the real one; tests may supply
 * their own.
 */
public fun interface IngestionApi {
    /**
     * Uploads [batch] and reports the outcome. Expected failures (HTTP errors, I/O errors,
     * timeouts) are results, not exceptions.
     *
     * Cancellation abandons the request; the server may have stored the events anyway, which is
     * why redelivery is answered `duplicate`.
     */
    public suspend fun upload(batch: Batch): UploadResult
}
