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
 * <p>Arguments: local repository, Spool version, the consumer's Kotlin version, a work directory.
 */
public final class ConsumerCheck {
  /** Module names the issue fixes; modules added later must follow the same rule (a package of theirs). */
  private static final Map<String, String> KNOWN_MODULE_NAMES =
      Map.of("queue-core", "dev.spool.queue", "queue-flusher", "dev.spool.flusher");

  private static final List<String> failures = new ArrayList<>();

  private ConsumerCheck() {}

  public static void main(String[] args) throws Exception {
    Path repo = Path.of(args[0]);
    String version = args[1];
    String kotlinVersion = args[2];
    Path work = Path.of(args[3]);
    Path spoolDir = repo.resolve("dev").resolve("spool");

    Map<String, Path> jars = spoolJarsOnClasspath(spoolDir);
    System.out.println("Spool jars on the runtime classpath: " + jars.keySet());

    Document bom = pom(spoolDir.resolve("spool-bom").resolve(version).resolve("spool-bom-" + version + ".pom"));
    Set<String> listed = bomArtifacts(bom);
    expect(!listed.isEmpty(), "spool-bom lists Spool's modules");
    expect(!listed.contains("samples") && !listed.contains("benchmarks"), "spool-bom leaves out samples and benchmarks");
    expect(jars.keySet().equals(listed),
        "the consumer depends on exactly the modules spool-bom lists: bom " + listed + ", here " + jars.keySet());
    checkMetadata("spool-bom", bom);
    checkMetadata("spool-parent", pom(spoolDir.resolve("spool-parent").resolve(version)
        .resolve("spool-parent-" + version + ".pom")));

    Map<String, String> packageOwner = new HashMap<>();
    Set<String> moduleNames = new TreeSet<>();
    for (Map.Entry<String, Path> entry : jars.entrySet()) {
      checkJar(entry.getKey(), entry.getValue(), version, packageOwner, moduleNames);
    }

    String stdlib = KotlinVersion.CURRENT.toString();
    expect(kotlinVersion.startsWith(stdlib) || stdlib.startsWith(kotlinVersion),
        "runs on the consumer's kotlin-stdlib " + kotlinVersion + ", found " + stdlib);
    expect(!onClasspath("kotlin.reflect.full.KClasses"), "kotlin-reflect stays out of the runtime classpath");

    String sqlite = sqliteVersion();
    System.out.println("SQLite bundled by sqlite-jdbc: " + sqlite);
    expect(atLeast(sqlite, 3, 38), "SQLite is 3.38 or newer (README's minimum), got " + sqlite);

    runConsumer("Java", () -> JavaConsumer.run(Files.createDirectories(work.resolve("java"))));
    runConsumer("Kotlin", () -> KotlinConsumerKt.runKotlinConsumer(Files.createDirectories(work.resolve("kotlin"))));

    if (!failures.isEmpty()) {
      System.err.println("Consumer check FAILED:");
      failures.forEach(f -> System.err.println("  - " + f));
      System.exit(1);
    }
    System.out.println("Consumer check passed: " + moduleNames + " on Java " + Runtime.version()
        + ", Kotlin stdlib " + stdlib);
  }

  /** Records a failure of the published artifacts unless {@code condition} holds, and goes on. */
  private static void expect(boolean condition, String what) {
    if (!condition) failures.add(what);
  }

  /** Stops a consumer's run unless {@code condition} holds; used by the Java and Kotlin consumers. */
  static void require(boolean condition, String what) {
    if (!condition) throw new AssertionError("expected: " + what);
  }

  private static void runConsumer(String what, ThrowingRunnable run) {
    try {
      run.run();
      System.out.println(what + " consumer ran");
    } catch (Throwable t) {
      t.printStackTrace();
      failures.add(what + " consumer: " + t);
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
