package org.hossadm.elasticsearch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.elasticsearch.analysis.common.CommonAnalysisPlugin;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.mapper.MapperExtrasPlugin;
import org.elasticsearch.index.rankeval.RankEvalPlugin;
import org.elasticsearch.index.reindex.ReindexPlugin;
import org.elasticsearch.ingest.common.IngestCommonPlugin;
import org.elasticsearch.join.ParentJoinPlugin;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.painless.PainlessPlugin;
import org.elasticsearch.percolator.PercolatorPlugin;
import org.elasticsearch.plugin.repository.url.URLRepositoryPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.script.mustache.MustachePlugin;
import org.elasticsearch.search.aggregations.matrix.MatrixAggregationPlugin;
import org.elasticsearch.transport.Netty4Plugin;

/**
 * Starts one Elasticsearch 7.10 node in this JVM the way the upstream
 * container does it (elasticsearch.yml from the config folder, settings from
 * the environment and -E arguments), with the bundled modules on the
 * classpath instead of the modules/ folder. There is no plugin loader and no
 * security manager, so no per-module policy files or descriptors are needed.
 */
public final class Launcher {

    /** What the upstream distribution loads from modules/ and a client may rely on. */
    static final List<Class<? extends Plugin>> MODULES = List.of(
        Netty4Plugin.class,
        CommonAnalysisPlugin.class,
        MapperExtrasPlugin.class,
        PainlessPlugin.class,
        MustachePlugin.class,
        ParentJoinPlugin.class,
        PercolatorPlugin.class,
        ReindexPlugin.class,
        RankEvalPlugin.class,
        MatrixAggregationPlugin.class,
        IngestCommonPlugin.class,
        URLRepositoryPlugin.class);

    /**
     * Settings of X-Pack, which the upstream default distribution bundles and
     * this image does not. Compose files written for the upstream image set
     * xpack.security.enabled=false and the like; an unknown setting would
     * otherwise stop the node at start.
     */
    static final List<String> ABSENT_PLUGIN_PREFIXES = List.of("xpack.");

    /** The upstream entrypoint's rule for which environment variables are settings. */
    static final Pattern SETTING_ENV = Pattern.compile("^[a-z0-9_]+\\.[a-z0-9_]+.*");

    /** Exit status for bad arguments, as sysexits' EX_USAGE. */
    static final int EXIT_USAGE = 64;

    private Launcher() {}

    public static void main(String[] args) {
        final Map<String, String> overrides;
        try {
            overrides = overrides(System.getenv(), args);
        } catch (IllegalArgumentException e) {
            System.err.println("elasticsearch: " + e.getMessage());
            System.err.println("usage: elasticsearch [-E<setting>=<value>]...");
            System.exit(EXIT_USAGE);
            return;
        }
        try {
            run(overrides);
        } catch (Throwable t) {
            // Logging may not be configured yet, so the cause goes to stderr too:
            // a container that exits at start must say why in `docker logs`.
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            System.err.println("elasticsearch: fatal error while starting the node: " + root);
            t.printStackTrace();
            Runtime.getRuntime().halt(1);
        }
    }

    /**
     * Environment variables first, then -E arguments, so an argument wins over
     * the environment as with the upstream image; both win over elasticsearch.yml.
     */
    static Map<String, String> overrides(Map<String, String> env, String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        env.entrySet().stream()
            .filter(e -> (SETTING_ENV.matcher(e.getKey()).matches() || e.getKey().equals("processors"))
                && !e.getValue().isEmpty())
            .sorted(Map.Entry.comparingByKey())
            .forEach(e -> out.put(e.getKey(), e.getValue()));
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String kv;
            if (a.equals("-E")) {
                if (++i >= args.length) throw new IllegalArgumentException("-E needs a setting=value");
                kv = args[i];
            } else if (a.startsWith("-E")) {
                kv = a.substring(2);
            } else {
                throw new IllegalArgumentException("unknown argument: " + a);
            }
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("setting must be key=value: " + kv);
            out.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return out;
    }

    static void run(Map<String, String> overrides) throws Exception {
        Path home = Paths.get(System.getProperty("es.path.home", "/usr/share/elasticsearch"));
        String confProp = System.getProperty("es.path.conf");
        Path conf = confProp == null || confProp.isEmpty() ? home.resolve("config") : Paths.get(confProp);
        if (!Files.isRegularFile(conf.resolve("elasticsearch.yml"))) {
            throw new IllegalStateException("no elasticsearch.yml in " + conf
                + " (a bind mount of a missing host file shows up as a folder)");
        }

        LogConfigurator.registerErrorListener();
        Environment prepared = InternalSettingsPreparer.prepareEnvironment(
            Settings.builder().put(Environment.PATH_HOME_SETTING.getKey(), home.toString()).build(),
            overrides, conf, () -> System.getenv("HOSTNAME"));

        List<String> dropped = new ArrayList<>();
        Settings kept = prepared.settings().filter(key -> {
            boolean absent = ABSENT_PLUGIN_PREFIXES.stream().anyMatch(key::startsWith);
            if (absent) dropped.add(key);
            return !absent;
        });
        Environment env = new Environment(kept, prepared.configFile());
        // The %node_name converter and the JSON layout read this once; it must
        // precede configure().
        LogConfigurator.setNodeName(Node.NODE_NAME_SETTING.get(env.settings()));
        LogConfigurator.configure(env);
        Logger log = LogManager.getLogger(Launcher.class);
        for (String key : dropped) {
            log.warn("ignoring [{}]: X-Pack is not part of this image; HTTP is plain and unauthenticated", key);
        }

        Node node = new ModuleNode(env, MODULES);
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                if (!node.awaitClose(30, TimeUnit.SECONDS)) {
                    log.warn("node did not close within 30s");
                }
            } catch (Exception e) {
                log.error("failed to close the node cleanly", e);
            } finally {
                closed.countDown();
                // log4j's own hook is off (-Dlog4j.shutdownHookEnabled=false) so
                // that the node's closing lines above still reach the console.
                Configurator.shutdown((LoggerContext) LogManager.getContext(false));
            }
        }, "elasticsearch-shutdown"));

        node.start();
        // The node's own threads are daemons; this keeps the JVM up until SIGTERM.
        closed.await();
    }

    /** Node's classpath-plugin constructor is protected. */
    static final class ModuleNode extends Node {
        ModuleNode(Environment env, Collection<Class<? extends Plugin>> modules) {
            super(env, modules, true);
        }
    }
}
