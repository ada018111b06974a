package dev.spool.ktor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.tasks.BlockingTaskQueue;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The dashboard from Java: a plain lambda configures it, no Kotlin types in sight. */
class InspectionServerJavaTest {
    @Test
    void aJavaCallerMountsATaskQueueWithALambdaAndReadsItsRoute() throws Exception {
        Path dir = Files.createTempDirectory("spool-ktor-java");
        try (BlockingTaskQueue tasks = BlockingTaskQueue.openBlocking(dir.resolve("tasks.db"));
             InspectionServer server = InspectionServer.create(config -> config.taskQueue("jobs", tasks.suspending())).start()) {
            assertEquals("127.0.0.1", server.getDashboardUrl().getHost());
            tasks.enqueue("render", "{}");
            URI queues = server.getDashboardUrl().resolve("api/queues");
            HttpResponse<String> response = HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(queues).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertTrue(response.body().replaceAll("\\s", "").contains("\"name\":\"jobs\""), response.body());
        }
    }

    @Test
    void aBadPortIsRefusedAtCreationNamingThePort() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> InspectionServer.create("127.0.0.1", 70000, config -> { }));
        assertTrue(e.getMessage().contains("port"), e.getMessage());
    }
}
