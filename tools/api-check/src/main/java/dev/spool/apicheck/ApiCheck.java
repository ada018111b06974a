package dev.spool.apicheck;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jetbrains.kotlin.abi.tools.AbiFilters;
import org.jetbrains.kotlin.abi.tools.AbiTools;

/**
 * Dumps the public API of a module's compiled classes in the Kotlin ABI format (the {@code .api}
 * files of kotlinx.coroutines and Okio) and compares it with the committed dump, or rewrites it.
 *
 * <p>Arguments: the classes directory, the dump file, and {@code true} to rewrite the dump instead
 * of checking it. A check fails (with the lines that differ) when the API changed, and also when a
 * public class has the shape of a Kotlin {@code data class} ({@code component1} and {@code copy}),
 * which Spool's API does not use.
 */
public final class ApiCheck {
    /** A member named component1 or copy; value-class mangling adds "-hash", defaults "$default". */
    private static final Pattern DATA_COMPONENT = Pattern.compile(" component1(-[^ ]*)? \\(");
    private static final Pattern DATA_COPY = Pattern.compile(" copy(-[^ ]*|\\$default)? \\(");
    private static final String UPDATE = "mvn -B -DskipTests -Dspool.api.update=true verify";

    private ApiCheck() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: ApiCheck <classes directory> <dump file> <update: true|false>");
        }
        Path classes = Path.of(args[0]);
        Path dumpFile = Path.of(args[1]);
        boolean update = Boolean.parseBoolean(args[2]);

        String dump = dump(classes);
        List<String> dataClasses = dataClassShapes(dump);
        if (!dataClasses.isEmpty()) {
            throw new IllegalStateException("Public data-class shapes (component1 and copy) in " + classes
                + ": " + dataClasses + ". Write a plain class with equals, hashCode and toString.");
        }
        if (update) {
            Files.createDirectories(dumpFile.toAbsolutePath().getParent());
            Files.writeString(dumpFile, dump, StandardCharsets.UTF_8);
            System.out.println("[api-check] wrote " + dumpFile);
            return;
        }
        if (!Files.exists(dumpFile)) {
            throw new IllegalStateException("No API dump at " + dumpFile + ". Create it with: " + UPDATE);
        }
        String committed = Files.readString(dumpFile, StandardCharsets.UTF_8);
        if (!normalize(committed).equals(normalize(dump))) {
            throw new IllegalStateException("The public API differs from " + dumpFile + ":\n" + difference(committed, dump)
                + "\nIf the change is intended, update the dump with: " + UPDATE + " (and commit it).");
        }
        System.out.println("[api-check] " + dumpFile.getFileName() + " matches the compiled classes");
    }

    /** The ABI dump of every class file under {@code classes}, in a stable order. */
    static String dump(Path classes) throws IOException {
        List<File> files;
        try (Stream<Path> walk = Files.walk(classes)) {
            files = walk.filter(p -> p.toString().endsWith(".class") && !p.getFileName().toString().equals("module-info.class"))
                .sorted()
                .map(Path::toFile)
                .collect(Collectors.toList());
        }
        AbiTools tools = AbiTools.Companion.getInstance(ApiCheck.class.getClassLoader());
        StringBuilder out = new StringBuilder();
        tools.printJvmDump(out, files, new AbiFilters(Set.of(), Set.of(), Set.of(), Set.of()));
        return out.toString();
    }

    /** Classes of the dump that declare both {@code component1} and {@code copy}. */
    static List<String> dataClassShapes(String dump) {
        List<String> found = new ArrayList<>();
        String current = null;
        boolean component = false;
        boolean copy = false;
        for (String line : dump.split("\n")) {
            if (!line.startsWith("\t") && line.contains("class ")) {
                current = line.trim();
                component = false;
                copy = false;
            } else if (DATA_COMPONENT.matcher(line).find()) {
                component = true;
            } else if (DATA_COPY.matcher(line).find()) {
                copy = true;
            }
            if (current != null && component && copy && !found.contains(current)) {
                found.add(current);
            }
        }
        return found;
    }

    private static String normalize(String text) {
        return text.replace("\r\n", "\n").strip();
    }

    /** Lines only in the committed dump (-) and lines only in the compiled classes (+). */
    private static String difference(String committed, String dump) {
        Set<String> before = new LinkedHashSet<>(List.of(normalize(committed).split("\n")));
        Set<String> after = new LinkedHashSet<>(List.of(normalize(dump).split("\n")));
        StringBuilder out = new StringBuilder();
        for (String line : before) {
            if (!after.contains(line)) out.append("- ").append(line).append('\n');
        }
        for (String line : after) {
            if (!before.contains(line)) out.append("+ ").append(line).append('\n');
        }
        return out.length() == 0 ? "(the same lines in another order)\n" : out.toString();
    }
}
