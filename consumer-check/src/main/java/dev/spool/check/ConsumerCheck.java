package dev.spool.check;

import java.io.File;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import kotlin.KotlinVersion;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Checks what `mvn install` published, as a consumer resolved it, then runs a Java and a Kotlin
 * use of the public API on that classpath. Exits non-zero listing every failure.
 *
 * <p>Arguments: local repository, Spool version, the consumer's Kotlin version, a work directory,
 * the Spool checkout (consumer-check/..), this project's pom.xml, the PostgreSQL JDBC URL for
 * PostgresTaskQueue, and the modules the caller installed (comma-separated, as in .ci/run's
 * {@code -pl}; "-" when not given).
 */
public final class ConsumerCheck {
  /** Module names the issue fixes; modules added later must follow the same rule (a package of theirs). */
  private static final Map<String, String> KNOWN_MODULE_NAMES = Map.of(
      "queue-core", "dev.spool.queue",
      "queue-flusher", "dev.spool.flusher",
      "queue-sync", "dev.spool.sync",
      "spool-ktor", "dev.spool.ktor",
      "queue-postgres", "dev.spool.tasks.postgres");

  /**
   * Classes of test-only or optional dependencies that no published POM may put on an
   * application's runtime classpath: the connection pool (PostgresTaskQueue takes any
   * DataSource), the browser-test driver, the test frameworks, Micrometer (optional in queue-core).
   * kotlin-reflect is not among them: spool-ktor brings it through ktor-server-core, which needs it;
   * queue-core's POM excluding it from Exposed is checked instead.
   */
  private static final Map<String, String> MUST_STAY_OUT = Map.of(
      "com.zaxxer.hikari.HikariDataSource", "HikariCP",
      "org.openqa.selenium.WebDriver", "Selenium",
      "io.kotest.core.spec.Spec", "Kotest",
      "org.junit.jupiter.api.Test", "JUnit",
      "io.micrometer.core.instrument.MeterRegistry", "micrometer-core");

  private static final List<String> failures = new ArrayList<>();

  private ConsumerCheck() {}

  public static void main(String[] args) throws Exception {
    Path repo = Path.of(args[0]);
    String version = args[1];
    String kotlinVersion = args[2];
    Path work = Path.of(args[3]);
    Path checkout = Path.of(args[4]).toAbsolutePath().normalize();
    Path consumerPom = Path.of(args[5]);
    String pgUrl = args[6];
    String installed = args[7];
    Path spoolDir = repo.resolve("dev").resolve("spool");

    Map<String, Path> jars = spoolJarsOnClasspath(spoolDir);
    System.out.println("Spool jars on the runtime classpath: " + jars.keySet());

    Document bom = pom(spoolDir.resolve("spool-bom").resolve(version).resolve("spool-bom-" + version + ".pom"));
    Set<String> listed = bomArtifacts(bom);
    expect(!listed.isEmpty(), "spool-bom lists Spool's modules");
    expect(!listed.contains("samples") && !listed.contains("benchmarks"), "spool-bom leaves out samples and benchmarks");
    expect(jars.keySet().equals(listed),
        "the runtime classpath has exactly the modules spool-bom lists: bom " + listed + ", here " + jars.keySet());
    Set<String> declared = spoolDependencies(pom(consumerPom));
    expect(declared.equals(listed),
        "consumer-check/pom.xml declares exactly the modules spool-bom lists: bom " + listed + ", pom " + declared);
    Map<String, Path> published = publishedModules(checkout);
    expect(published.keySet().equals(listed),
        "spool-bom lists exactly the reactor's published modules: bom " + listed + ", reactor " + published.keySet());
    if (!installed.equals("-")) {
      Set<String> installList = new TreeSet<>(List.of(installed.split(",")));
      expect(installList.equals(listed),
          "the release install (.ci/run) covers exactly the modules spool-bom lists: bom " + listed
              + ", installed " + installList);
    }
    Document parent = pom(spoolDir.resolve("spool-parent").resolve(version).resolve("spool-parent-" + version + ".pom"));
    checkMetadata("spool-bom", bom);
    checkMetadata("spool-parent", parent);
    // spool-bom repeats spool-parent's metadata (it has no parent): the copies must agree.
    for (String path : List.of("url", "inceptionYear", "organization/name", "organization/url", "licenses/license/name",
        "licenses/license/url", "developers/developer/id", "developers/developer/name", "developers/developer/email",
        "scm/connection", "scm/developerConnection", "scm/url", "issueManagement/system", "issueManagement/url")) {
      String inParent = at(parent.getDocumentElement(), path);
      String inBom = at(bom.getDocumentElement(), path);
      expect(!inParent.isEmpty() && inParent.equals(inBom),
          "spool-bom's <" + path + "> equals spool-parent's: parent '" + inParent + "', bom '" + inBom + "'");
    }

    Map<String, String> packageOwner = new HashMap<>();
    Set<String> moduleNames = new TreeSet<>();
    for (Map.Entry<String, Path> entry : jars.entrySet()) {
      checkJar(entry.getKey(), entry.getValue(), version, packageOwner, moduleNames);
      Path dir = published.get(entry.getKey());
      if (dir != null) checkBuiltHere(entry.getKey(), entry.getValue(), dir, version);
    }

    String stdlib = KotlinVersion.CURRENT.toString();
    expect(kotlinVersion.startsWith(stdlib) || stdlib.startsWith(kotlinVersion),
        "runs on the consumer's kotlin-stdlib " + kotlinVersion + ", found " + stdlib);
    Path corePom = spoolDir.resolve("queue-core").resolve(version).resolve("queue-core-" + version + ".pom");
    expect(excludes(pom(corePom), "org.jetbrains.exposed", "org.jetbrains.kotlin", "kotlin-reflect"),
        "queue-core's POM keeps kotlin-reflect out of Exposed's dependencies (apps without spool-ktor never get it)");
    MUST_STAY_OUT.forEach((cls, what) ->
        expect(!onClasspath(cls), what + " stays out of the runtime classpath (found " + cls + ")"));

    String sqlite = sqliteVersion();
    System.out.println("SQLite bundled by sqlite-jdbc: " + sqlite);
    expect(atLeast(sqlite, 3, 38), "SQLite is 3.38 or newer (README's minimum), got " + sqlite);

    deleteRecursively(work); // each run starts from empty queues, even after an aborted one
    runConsumer("Java", () -> JavaConsumer.run(Files.createDirectories(work.resolve("java")), pgUrl));
    runConsumer("Kotlin",
        () -> KotlinConsumerKt.runKotlinConsumer(Files.createDirectories(work.resolve("kotlin")), pgUrl));

    if (!failures.isEmpty()) {
      System.err.println("Consumer check FAILED:");
      failures.forEach(f -> System.err.println("  - " + f));
      System.exit(1);
    }
    System.out.println("Consumer check passed: " + moduleNames + " on Java " + Runtime.version()
        + ", Kotlin stdlib " + stdlib);
    System.exit(0); // a thread a library left behind must not keep the check running
  }

  private static void deleteRecursively(Path dir) throws java.io.IOException {
    if (!Files.exists(dir)) return;
    try (java.util.stream.Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.delete(p);
      }
    }
  }

  /** Records a failure of the published artifacts unless {@code condition} holds, and goes on. */
  private static void expect(boolean condition, String what) {
    if (!condition) failures.add(what);
  }

  /** Stops a consumer's run unless {@code condition} holds; used by the Java and Kotlin consumers. */
  static void require(boolean condition, String what) {
    if (!condition) throw new AssertionError("expected: " + what);
  }

  /** How long one consumer may take before the check gives up on it, with every thread's stack. */
  private static final long CONSUMER_TIMEOUT_MILLIS = 5 * 60_000;

  /**
   * Runs one consumer on a thread of its own and records its failure; one that hangs is reported
   * with every thread's stack after {@link #CONSUMER_TIMEOUT_MILLIS}, so CI fails instead of
   * waiting forever.
   */
  private static void runConsumer(String what, ThrowingRunnable run) throws InterruptedException {
    Throwable[] failure = new Throwable[1];
    Thread thread = new Thread(() -> {
      try {
        run.run();
      } catch (Throwable t) {
        failure[0] = t;
      }
    }, what + "-consumer");
    thread.setDaemon(true);
    thread.start();
    thread.join(CONSUMER_TIMEOUT_MILLIS);
    if (thread.isAlive()) {
      System.err.println(what + " consumer did not finish within " + CONSUMER_TIMEOUT_MILLIS / 1000 + " s; threads:");
      Thread.getAllStackTraces().forEach((t, stack) -> {
        System.err.println("\"" + t.getName() + "\" " + t.getState());
        for (StackTraceElement e : stack) System.err.println("    at " + e);
      });
      failures.add(what + " consumer: did not finish within " + CONSUMER_TIMEOUT_MILLIS / 1000 + " s (stacks above)");
    } else if (failure[0] != null) {
      failure[0].printStackTrace();
      failures.add(what + " consumer: " + failure[0]);
    } else {
      System.out.println(what + " consumer ran");
    }
  }

  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  private static Map<String, Path> spoolJarsOnClasspath(Path spoolDir) {
    Map<String, Path> jars = new LinkedHashMap<>();
    for (String element : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(element).toAbsolutePath().normalize();
      if (path.startsWith(spoolDir.toAbsolutePath().normalize()) && path.toString().endsWith(".jar")) {
        jars.put(spoolDir.relativize(path).getName(0).toString(), path);
      }
    }
    return jars;
  }

  private static void checkJar(String artifact, Path jar, String version,
      Map<String, String> packageOwner, Set<String> moduleNames) throws Exception {
    String base = artifact + "-" + version;
    expect(jar.getFileName().toString().equals(base + ".jar"), artifact + ": resolved at " + version + ", got " + jar);

    String declared;
    Set<String> packages = new TreeSet<>();
    try (JarFile file = new JarFile(jar.toFile())) {
      declared = file.getManifest() == null ? null
          : file.getManifest().getMainAttributes().getValue("Automatic-Module-Name");
      for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) {
        String name = e.nextElement().getName();
        if (name.endsWith(".class") && !name.startsWith("META-INF/") && name.contains("/")) {
          packages.add(name.substring(0, name.lastIndexOf('/')).replace('/', '.'));
        }
      }
    }
    expect(declared != null, artifact + ": manifest has Automatic-Module-Name");
    if (declared != null) {
      String known = KNOWN_MODULE_NAMES.get(artifact);
      expect(known == null || known.equals(declared), artifact + ": module name " + known + ", got " + declared);
      expect(declared.startsWith("dev.spool.") && packages.contains(declared),
          artifact + ": module name " + declared + " is one of its own packages");
      expect(moduleNames.add(declared), artifact + ": module name " + declared + " is unique");
      // The JDK derives the automatic module from the manifest: it must accept the name as is.
      Set<ModuleReference> found = ModuleFinder.of(jar).findAll();
      String derived = found.stream().map(r -> r.descriptor().name()).collect(Collectors.joining());
      expect(declared.equals(derived), artifact + ": the JDK names the module " + declared + ", got " + derived);
      found.forEach(r -> expect(r.descriptor().isAutomatic(), artifact + ": an automatic module"));
    }
    for (String pkg : packages) {
      String owner = packageOwner.putIfAbsent(pkg, artifact);
      expect(owner == null, "package " + pkg + " is split between " + owner + " and " + artifact);
    }

    Path dir = jar.getParent();
    checkAttached(artifact, dir.resolve(base + "-sources.jar"), ".kt");
    checkAttached(artifact, dir.resolve(base + "-javadoc.jar"), "index.html");
    Path pomFile = dir.resolve(base + ".pom");
    expect(Files.isRegularFile(pomFile), artifact + ": POM installed");
    if (Files.isRegularFile(pomFile)) {
      Element project = pom(pomFile).getDocumentElement();
      expect(!text(project, "name").isEmpty() && !text(project, "description").isEmpty(),
          artifact + ": POM has a name and a description");
      expect(text((Element) project.getElementsByTagName("parent").item(0), "artifactId").equals("spool-parent"),
          artifact + ": POM inherits spool-parent's metadata");
    }
  }

  /**
   * The installed jar is the one this checkout built ({@code <module>/target}): a module left out
   * of the release install would otherwise be checked as whatever an earlier install left in the
   * local repository.
   */
  private static void checkBuiltHere(String artifact, Path installed, Path moduleDir, String version)
      throws Exception {
    Path built = moduleDir.resolve("target").resolve(artifact + "-" + version + ".jar");
    expect(Files.isRegularFile(built) && Files.mismatch(built, installed) == -1,
        artifact + ": the installed jar is the one built from this checkout (" + built
            + "); install it with .ci/run's release command");
  }

  /**
   * The reactor's published modules, by artifactId with their directory: the modules of
   * spool-parent that build a jar and set neither spool.publish.skip nor maven.deploy.skip.
   */
  private static Map<String, Path> publishedModules(Path checkout) throws Exception {
    Map<String, Path> modules = new TreeMap<>();
    NodeList names = pom(checkout.resolve("pom.xml")).getElementsByTagName("module");
    for (int i = 0; i < names.getLength(); i++) {
      Path dir = checkout.resolve(names.item(i).getTextContent().trim());
      Element project = pom(dir.resolve("pom.xml")).getDocumentElement();
      String packaging = text(project, "packaging");
      Element properties = (Element) project.getElementsByTagName("properties").item(0);
      boolean skipped = text(properties, "spool.publish.skip").equals("true")
          || text(properties, "maven.deploy.skip").equals("true");
      if (!skipped && (packaging.isEmpty() || packaging.equals("jar"))) {
        modules.put(text(project, "artifactId"), dir);
        expect(Files.isRegularFile(dir.resolve("api").resolve(text(project, "artifactId") + ".api")),
            text(project, "artifactId") + ": published, so its API dump api/<artifactId>.api is committed");
      }
    }
    return modules;
  }

  /** Whether some dependency of {@code groupId} in {@code pom} excludes the artifact given. */
  private static boolean excludes(Document pom, String groupId, String excludedGroup, String excludedArtifact) {
    NodeList deps = pom.getElementsByTagName("dependency");
    for (int i = 0; i < deps.getLength(); i++) {
      Element dep = (Element) deps.item(i);
      if (!text(dep, "groupId").equals(groupId)) continue;
      NodeList exclusions = dep.getElementsByTagName("exclusion");
      for (int j = 0; j < exclusions.getLength(); j++) {
        Element exclusion = (Element) exclusions.item(j);
        if (text(exclusion, "groupId").equals(excludedGroup) && text(exclusion, "artifactId").equals(excludedArtifact)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The dev.spool artifacts that {@code pom}'s own {@code <dependencies>} declare. */
  private static Set<String> spoolDependencies(Document pom) {
    Set<String> artifacts = new TreeSet<>();
    Element project = pom.getDocumentElement();
    for (org.w3c.dom.Node n = project.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element && ((Element) n).getTagName().equals("dependencies")) {
        NodeList deps = ((Element) n).getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
          Element dep = (Element) deps.item(i);
          if (text(dep, "groupId").equals("dev.spool")) artifacts.add(text(dep, "artifactId"));
        }
      }
    }
    return artifacts;
  }

  private static void checkAttached(String artifact, Path jar, String entrySuffix) throws Exception {
    expect(Files.isRegularFile(jar), artifact + ": " + jar.getFileName() + " installed");
    if (!Files.isRegularFile(jar)) return;
    try (JarFile file = new JarFile(jar.toFile())) {
      boolean has = file.stream().anyMatch(e -> e.getName().endsWith(entrySuffix));
      expect(has, artifact + ": " + jar.getFileName() + " contains *" + entrySuffix);
    }
  }

  private static void checkMetadata(String what, Document pom) {
    Element project = pom.getDocumentElement();
    expect(!text(project, "url").isEmpty(), what + ": POM has a url");
    expect(project.getElementsByTagName("license").getLength() > 0
        && text((Element) project.getElementsByTagName("license").item(0), "name").equals("Apache-2.0"),
        what + ": POM declares the Apache-2.0 license");
    for (String element : List.of("scm", "developers", "issueManagement")) {
      expect(project.getElementsByTagName(element).getLength() > 0, what + ": POM has <" + element + ">");
    }
  }

  private static Set<String> bomArtifacts(Document bom) {
    Set<String> artifacts = new TreeSet<>();
    NodeList deps = bom.getElementsByTagName("dependency");
    for (int i = 0; i < deps.getLength(); i++) {
      Element dep = (Element) deps.item(i);
      if (text(dep, "groupId").equals("dev.spool")) artifacts.add(text(dep, "artifactId"));
    }
    return artifacts;
  }

  private static Document pom(Path file) throws Exception {
    if (!Files.isRegularFile(file)) throw new IllegalStateException("not installed: " + file);
    return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
  }

  /** The text at a slash-separated path of direct children below {@code element}, or "" when absent. */
  private static String at(Element element, String path) {
    String[] names = path.split("/");
    Element current = element;
    for (int i = 0; i < names.length - 1 && current != null; i++) current = child(current, names[i]);
    return text(current, names[names.length - 1]);
  }

  private static Element child(Element parent, String name) {
    for (org.w3c.dom.Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element && ((Element) n).getTagName().equals(name)) return (Element) n;
    }
    return null;
  }

  /** The text of [parent]'s direct child [name], or "" when absent. */
  private static String text(Element parent, String name) {
    if (parent == null) return "";
    for (org.w3c.dom.Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element && ((Element) n).getTagName().equals(name)) return n.getTextContent().trim();
    }
    return "";
  }

  /** The SQLite that sqlite-jdbc loads here, through plain JDBC (sqlite-jdbc arrived transitively). */
  private static String sqliteVersion() throws Exception {
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite::memory:");
        java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT sqlite_version()")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static boolean atLeast(String version, int major, int minor) {
    String[] parts = version.split("\\.");
    int ma = Integer.parseInt(parts[0]);
    int mi = Integer.parseInt(parts[1]);
    return ma > major || (ma == major && mi >= minor);
  }

  private static boolean onClasspath(String className) {
    try {
      Class.forName(className, false, ConsumerCheck.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }
}
