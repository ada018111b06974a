package dev.spool.ktor

import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskState
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.openqa.selenium.By
import org.openqa.selenium.JavascriptExecutor
import org.openqa.selenium.OutputType
import org.openqa.selenium.StaleElementReferenceException
import org.openqa.selenium.chrome.ChromeDriver
import org.openqa.selenium.chrome.ChromeDriverService
import org.openqa.selenium.chrome.ChromeOptions
import org.openqa.selenium.logging.LogEntry
import org.openqa.selenium.logging.LogType
import org.openqa.selenium.logging.LoggingPreferences
import org.openqa.selenium.support.ui.Select
import org.openqa.selenium.support.ui.WebDriverWait
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.time.Duration
import java.util.logging.Level
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

private const val CHROMIUM = "/usr/bin/chromium"
private const val CHROMEDRIVER = "/usr/bin/chromedriver"

/**
 * The dashboard in a real headless Chromium (Debian's chromium and chromium-driver, which .ci/run
 * installs). Without them this spec fails: it never skips.
 */
class DashboardBrowserSpec : FunSpec({
    lateinit var served: Served
    lateinit var driver: ChromeDriver
    var dead = TaskId(1)
    val profile = Files.createTempDirectory("spool-chromium")

    fun js(script: String, vararg args: Any?): Any? = (driver as JavascriptExecutor).executeScript(script, *args)
    fun text(id: String): String? = js("const e = document.getElementById(arguments[0]); return e ? e.textContent : null", id) as String?
    fun rowIds(table: String): List<Long> =
        (js("return Array.from(document.querySelectorAll('#$table tbody tr[data-task-id]')).map(r => r.dataset.taskId)") as List<*>).map { it.toString().toLong() }
    fun waitUntil(what: String, condition: () -> Boolean) {
        WebDriverWait(driver, Duration.ofSeconds(30)).withMessage(what).ignoring(StaleElementReferenceException::class.java).until { condition() }
    }
    /** Clicks the element the page shows now; a poll may re-render it between finding and clicking. */
    fun click(css: String) = waitUntil("click $css") { driver.findElement(By.cssSelector(css)).click(); true }
    fun severe(): List<LogEntry> = driver.manage().logs().get(LogType.BROWSER).all.filter { it.level.intValue() >= Level.SEVERE.intValue() }

    beforeSpec {
        check(File(CHROMIUM).canExecute() && File(CHROMEDRIVER).canExecute()) {
            "the browser tests need Debian's chromium and chromium-driver at $CHROMIUM and $CHROMEDRIVER: apt-get install -y chromium chromium-driver (.ci/run does)"
        }
        served = Served.open {
            adminToken = ADMIN
            pollInterval = 400.milliseconds
            throughputInterval = 1.seconds
        }
        repeat(30) { served.tasks.enqueue(if (it % 3 == 0) "resize" else "email", """{"n":$it}""") }
        dead = served.tasks.deadLetter("mail", "smtp: 550 mailbox unavailable")
        served.tasks.schedule("hourly-report", "report", """{"format":"pdf"}""", dev.spool.tasks.Recurrence.Every(1.hours))

        // Selenium Manager downloads nothing: the driver and the browser are given explicitly.
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER)
        val service = ChromeDriverService.Builder().usingDriverExecutable(File(CHROMEDRIVER)).usingAnyFreePort().build()
        val options = ChromeOptions().setBinary(CHROMIUM).addArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--user-data-dir=$profile", "--window-size=1400,1000",
        )
        options.setCapability("goog:loggingPrefs", LoggingPreferences().apply { enable(LogType.BROWSER, Level.ALL) })
        driver = ChromeDriver(service, options)
        driver.get("${served.baseUrl}/spool/")
    }

    afterSpec {
        runCatching { driver.quit() }
        served.close()
        profile.toFile().deleteRecursively()
    }

    test("the page loads, shows the queues' counts and logs no console error") {
        waitUntil("QUEUED count shows 31") { text("count-jobs-QUEUED") == "31" } // 30 and the schedule's first
        text("count-jobs-DEAD_LETTER") shouldBe "1"
        text("count-events-size") shouldBe "0"
        waitUntil("status says live") { text("status")!!.startsWith("live") }
        severe().shouldBeEmpty()
    }

    test("counts change live when tasks are enqueued and completed") {
        repeat(5) { served.tasks.enqueue("email", "{}") }
        waitUntil("QUEUED count shows 36") { text("count-jobs-QUEUED") == "36" }
        val claimed = served.tasks.claim("worker-1", limit = 3, types = setOf("email"))
        claimed shouldHaveSize 3
        waitUntil("LEASED count shows 3") { text("count-jobs-LEASED") == "3" && text("count-jobs-QUEUED") == "33" }
        claimed.forEach { served.tasks.complete(it.lease!!) }
        waitUntil("SUCCEEDED count shows 3") { text("count-jobs-SUCCEEDED") == "3" && text("count-jobs-LEASED") == "0" }
        severe().shouldBeEmpty()
    }

    test("the task table filters and pages forwards and back") {
        Select(driver.findElement(By.id("filter-state"))).selectByVisibleText("QUEUED")
        driver.findElement(By.id("filter-type")).sendKeys("email")
        Select(driver.findElement(By.id("page-size"))).selectByVisibleText("10")
        click("#apply")
        val queuedEmails = served.tasks.list(dev.spool.tasks.TaskFilter(states = setOf(TaskState.QUEUED), type = "email", limit = 500)).tasks.map { it.id.value }
        waitUntil("first page of queued emails") { rowIds("tasks") == queuedEmails.take(10) }
        click("#next")
        waitUntil("second page") { rowIds("tasks") == queuedEmails.drop(10).take(10) && text("page-no") == "page 2" }
        click("#prev")
        waitUntil("first page again") { rowIds("tasks") == queuedEmails.take(10) && text("page-no") == "page 1" }
    }

    test("a task's detail shows its transition log") {
        click("#dead tbody tr[data-task-id='${dead.value}'] td")
        waitUntil("detail of the dead letter") { text("detail-id") == "#${dead.value}" && text("detail-state") == "DEAD_LETTER" }
        val log = (js("return Array.from(document.querySelectorAll('#detail-log tbody tr td:nth-child(3)')).map(td => td.textContent)") as List<*>)
        log shouldBe listOf("QUEUED", "LEASED", "DEAD_LETTER")
        text("detail-lastError") shouldBe "smtp: 550 mailbox unavailable"
    }

    test("requeue without the token is refused and changes nothing") {
        click("#token-clear")
        click("button.requeue[data-task-id='${dead.value}']")
        waitUntil("refusal shown") { text("action-message")!!.contains("refused (401)") }
        served.tasks.get(dead)!!.state shouldBe TaskState.DEAD_LETTER
        text("count-jobs-DEAD_LETTER") shouldBe "1"
    }

    test("the requeue button moves a dead-lettered task back to QUEUED") {
        driver.findElement(By.id("token")).sendKeys(ADMIN)
        click("#token-save")
        click("button.requeue[data-task-id='${dead.value}']")
        waitUntil("requeue confirmed") { text("action-message")!!.contains("now QUEUED") }
        served.tasks.get(dead)!!.state shouldBe TaskState.QUEUED
        waitUntil("dead letters empty and counts updated") { rowIds("dead").isEmpty() && text("count-jobs-DEAD_LETTER") == "0" }
        waitUntil("detail shows the requeue") { text("detail-state") == "QUEUED" }
        // The only console errors of the whole session are the refused call's 401.
        severe().forEach { it.message shouldContain "401" }
    }

    test("a schedule is paused and resumed from the page, and a lease shows its fencing token") {
        // The schedule's occurrence is running (its lease shown below); pausing lets it finish.
        val leased = served.tasks.claim("worker-3", types = setOf("report")).single()
        click("button.schedule-action[data-schedule='hourly-report'][data-action='pause']")
        waitUntil("schedule paused") { text("action-message")!!.contains("hourly-report: now paused") }
        served.tasks.schedules().single().paused shouldBe true
        click("button.schedule-action[data-schedule='hourly-report'][data-action='resume']")
        waitUntil("schedule running") { text("action-message")!!.contains("hourly-report: now running") }
        served.tasks.schedules().single().paused shouldBe false

        Select(driver.findElement(By.id("filter-state"))).selectByVisibleText("LEASED")
        driver.findElement(By.id("filter-type")).clear()
        click("#apply")
        waitUntil("lease column") {
            js("const r = document.querySelector(\"#tasks tbody tr[data-task-id='${leased.id.value}'] td:nth-child(6)\"); return r ? r.textContent : ''")
                .toString().startsWith("worker-3 #${leased.lease!!.token} until")
        }
    }

    test("an offline queue's pending events page forwards and back") {
        repeat(12) { served.events.queueEvent(dev.spool.queue.QueueEvent("ev$it", "click", """{"n":$it}""")) }
        fun eventIds() = (js("return Array.from(document.querySelectorAll('#events tbody tr[data-event-id]')).map(r => r.dataset.eventId)") as List<*>).map { it.toString() }
        click("#queues button[data-queue='events']")
        waitUntil("pending count and oldest age") { text("count-events-size") == "12" && text("count-events-oldest")!!.endsWith(" s") }
        Select(driver.findElement(By.id("events-page-size"))).selectByVisibleText("10")
        waitUntil("first page") { eventIds() == (0 until 10).map { "ev$it" } }
        click("#events-next")
        waitUntil("second page") { eventIds() == listOf("ev10", "ev11") && text("events-page-no") == "page 2" }
        click("#events-prev")
        waitUntil("first page again") { eventIds() == (0 until 10).map { "ev$it" } && text("events-page-no") == "page 1" }
        click("#queues button[data-queue='jobs']")
        waitUntil("back on the task queue") { driver.findElement(By.id("task-view")).isDisplayed }
    }

    test("a screenshot of the dashboard is saved under target/") {
        // Some work for the chart and the worker table, then a picture for the README.
        served.tasks.registerWorker("worker-2", setOf("gpu"), 30.seconds)
        repeat(3) { round ->
            served.tasks.claim("worker-1", limit = 4, types = setOf("resize", "email")).forEachIndexed { i, task ->
                if (i == 0 && round == 1) served.tasks.fail(task.lease!!, "timeout") else served.tasks.complete(task.lease!!)
            }
            Thread.sleep(1_100) // let the sampler take a sample per round: bars for the chart, not an assertion
        }
        served.tasks.claim("worker-2", limit = 2).shouldHaveSize(2)
        Select(driver.findElement(By.id("filter-state"))).selectByVisibleText("any")
        click("#apply")
        waitUntil("chart has bars") { (js("return document.querySelectorAll('#chart rect.ok').length") as Long) >= 2 }
        waitUntil("every lease shown") { text("count-jobs-LEASED") == "3" && rowIds("tasks").size == 10 }
        js("window.scrollTo(0, 0)")
        val shot = (driver as org.openqa.selenium.TakesScreenshot).getScreenshotAs(OutputType.FILE).toPath()
        val target = Path.of("target", "dashboard.png")
        Files.createDirectories(target.parent)
        Files.copy(shot, target, StandardCopyOption.REPLACE_EXISTING)
        Files.size(target) shouldBeGreaterThanLong 10_000
    }
})

private infix fun Long.shouldBeGreaterThanLong(other: Long) = check(this > other) { "expected more than $other, was $this" }

