package dev.sluice.nativebindings.dpdk;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.sluice.nativebindings.dpdk.internal.CName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compiles an offsetof/sizeof probe against the installed DPDK headers, independently of
 * the generator, and checks every committed constant of the generated bindings (each
 * field annotated with {@link CName}) against what the C compiler says.
 */
class LayoutProbeIT
{
    private static final String[] CLASSES = {
        "RteEal", "RteMempool", "RteMbuf", "RteRing", "RteEthdev", "RteEthConf", "RteEthDevInfo", "RteEthStats",
        "RteEthLink", "RteEtherAddr"};

    @Test
    void everyGeneratedConstantShouldMatchTheInstalledHeaders(@TempDir final Path dir) throws Exception
    {
        final Map<String, Long> javaValues = new LinkedHashMap<>();
        final Map<String, Boolean> is32Bit = new LinkedHashMap<>();
        final Map<String, String> cExpressions = new LinkedHashMap<>();
        for (final String simpleName : CLASSES)
        {
            final Class<?> type = Class.forName("dev.sluice.nativebindings.dpdk.generated." + simpleName);
            for (final Field field : type.getFields())
            {
                final CName cName = field.getAnnotation(CName.class);
                if (cName == null || !Modifier.isStatic(field.getModifiers()))
                {
                    continue;
                }
                final String key = simpleName + "." + field.getName();
                javaValues.put(key, ((Number)field.get(null)).longValue());
                is32Bit.put(key, field.getType() == int.class);
                cExpressions.put(key, cName.value());
                if (cName.value().startsWith("bitfield("))
                {
                    final String maskName = field.getName().replace("$BYTE_OFFSET", "$BYTE_MASK");
                    javaValues.put(key + "#mask", ((Number)type.getField(maskName).get(null)).longValue());
                }
            }
        }
        assertTrue(javaValues.size() > 80, "expected the whole binding surface, found " + javaValues.size());

        final Map<String, Long> cValues = probe(dir, cExpressions);
        final List<String> mismatches = new ArrayList<>();
        for (final Map.Entry<String, Long> entry : javaValues.entrySet())
        {
            final Long actual = cValues.get(entry.getKey());
            // a C uint32_t constant lands in a Java int: compare those as 32-bit patterns
            final boolean same = actual != null && (Boolean.TRUE.equals(is32Bit.get(entry.getKey())) ?
                (int)(long)actual == (int)(long)entry.getValue() : actual.equals(entry.getValue()));
            if (!same)
            {
                mismatches.add(entry.getKey() + ": java " + entry.getValue() + ", headers " + actual);
            }
        }
        assertEquals(List.of(), mismatches, "regenerate with scripts/regen-bindings");
    }

    @Test
    void mbufLayoutShouldBeTheOneTheDataPathAssumes()
    {
        // DPDK-NOTES.md, checked with offsetof on 22.11 x86_64
        assertEquals(128, dev.sluice.nativebindings.dpdk.generated.RteMbuf.SIZEOF);
        assertEquals(16, dev.sluice.nativebindings.dpdk.generated.RteMbuf.data_off$OFFSET);
        assertEquals(40, dev.sluice.nativebindings.dpdk.generated.RteMbuf.data_len$OFFSET);
        assertEquals(128, MbufPool.HEADROOM);
        assertEquals(2176, MbufPool.DEFAULT_DATA_ROOM);
    }

    private static Map<String, Long> probe(final Path dir, final Map<String, String> expressions)
        throws IOException, InterruptedException
    {
        final StringBuilder c = new StringBuilder("""
            #include <stdio.h>
            #include <stddef.h>
            #include <string.h>
            #include <rte_version.h>
            #include <rte_lcore.h>
            #include <rte_mbuf.h>
            #include <rte_mempool.h>
            #include <rte_ring.h>
            #include <rte_ethdev.h>
            #include <rte_ether.h>
            #define PRINT(k, v) printf("%s %lld\\n", k, (long long)(v))
            int main(void) {
            """);
        for (final Map.Entry<String, String> e : expressions.entrySet())
        {
            final String expr = e.getValue();
            if (expr.startsWith("bitfield("))
            {
                final String[] parts = expr.substring("bitfield(".length(), expr.length() - 1).split(",\\s*");
                c.append("  { ").append(parts[0]).append(" x; unsigned char *p = (unsigned char *)&x; ")
                    .append("memset(&x, 0, sizeof x); x.").append(parts[1]).append(" = 1; ")
                    .append("for (size_t i = 0; i < sizeof x; i++) if (p[i]) { PRINT(\"").append(e.getKey())
                    .append("\", i); PRINT(\"").append(e.getKey()).append("#mask\", p[i]); } }\n");
            }
            else
            {
                c.append("  PRINT(\"").append(e.getKey()).append("\", ").append(expr).append(");\n");
            }
        }
        c.append("  return 0;\n}\n");
        final Path source = dir.resolve("probe.c");
        final Path binary = dir.resolve("probe");
        Files.writeString(source, c.toString());
        final String cflags = run(List.of("pkg-config", "--cflags", "libdpdk")).strip();
        final List<String> gcc = new ArrayList<>(List.of("gcc"));
        gcc.addAll(List.of(cflags.split("\\s+")));
        gcc.addAll(List.of("-o", binary.toString(), source.toString()));
        run(gcc);
        final Map<String, Long> values = new LinkedHashMap<>();
        for (final String line : run(List.of(binary.toString())).split("\n"))
        {
            final String[] kv = line.split(" ");
            values.put(kv[0], Long.parseLong(kv[1]));
        }
        return values;
    }

    private static String run(final List<String> command) throws IOException, InterruptedException
    {
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + command);
        assertEquals(0, p.exitValue(), command + " failed:\n" + out);
        return out;
    }
}
