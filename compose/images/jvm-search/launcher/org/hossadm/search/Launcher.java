package org.hossadm.search;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * Starts one node of a search engine of the Elasticsearch 7.10 lineage
 * (Elasticsearch itself, or OpenSearch) in this JVM the way the upstream
 * container does it (the engine's yml from the config folder, settings from
 * the environment and -E arguments), with the bundled modules on the
 * classpath instead of the modules/ folder. There is no plugin loader and no
 * security manager, so no per-module policy files or descriptors are needed.
 *
 * Both engines have the same classes under another package prefix, so the
 * launcher reaches them by name; what differs between the images (name,
 * prefix, system property prefix, modules, settings of absent plugins) is
 * the resource engine.properties, which each image's build packs beside
 * this class. Every class, method and module is looked up before anything
 * starts (and by `Verify` at build time), so a wrong name fails at once.
 */
public final class Launcher {

    /** The upstream entrypoint's rule for which environment variables are settings. */
    static final Pattern SETTING_ENV = Pattern.compile("^[a-z0-9_]+\\.[a-z0-9_]+.*");

    /** Exit status for bad arguments, as sysexits' EX_USAGE. */
    static final int EXIT_USAGE = 64;

    private Launcher() {}

    public static void main(String[] args) {
        final Engine engine;
        try {
            engine = Engine.load(true);
        } catch (Exception e) {
            System.err.println("launcher: " + e.getMessage());
            e.printStackTrace();
            Runtime.getRuntime().halt(1);
            return;
        }
        final Map<String, String> overrides;
        try {
            overrides = overrides(System.getenv(), args);
        } catch (IllegalArgumentException e) {
            System.err.println(engine.name + ": " + e.getMessage());
            System.err.println("usage: " + engine.name + " [-E<setting>=<value>]...");
            System.exit(EXIT_USAGE);
            return;
        }
        try {
            run(engine, overrides);
        } catch (Throwable t) {
            if (t instanceof InvocationTargetException && t.getCause() != null) t = t.getCause();
            // Logging may not be configured yet, so the cause goes to stderr too:
            // a container that exits at start must say why in `docker logs`.
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            System.err.println(engine.name + ": fatal error while starting the node: " + root);
            t.printStackTrace();
            Runtime.getRuntime().halt(1);
        }
    }

    /**
     * Environment variables first, then -E arguments, so an argument wins over
     * the environment as with the upstream image; both win over the engine's yml.
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

    static void run(Engine e, Map<String, String> overrides) throws Exception {
        Path home = Paths.get(System.getProperty(e.propertyPrefix + ".path.home", "/usr/share/" + e.name));
        String confProp = System.getProperty(e.propertyPrefix + ".path.conf");
        Path conf = confProp == null || confProp.isEmpty() ? home.resolve("config") : Paths.get(confProp);
        if (!Files.isRegularFile(conf.resolve(e.configFile))) {
            throw new IllegalStateException("no " + e.configFile + " in " + conf
                + " (a bind mount of a missing host file shows up as a folder)");
        }

        e.registerErrorListener.invoke(null);
        Object homeOnly = e.builderBuild.invoke(
            e.builderPut.invoke(e.settingsBuilder.invoke(null), e.pathHomeKey(), home.toString()));
        Supplier<String> defaultNodeName = () -> System.getenv("HOSTNAME");
        Object prepared = e.prepareEnvironment.invoke(null, homeOnly, overrides, conf, defaultNodeName);

        List<String> dropped = new ArrayList<>();
        Predicate<String> keep = key -> {
            boolean absent = e.absentPluginPrefixes.stream().anyMatch(key::startsWith);
            if (absent) dropped.add(key);
            return !absent;
        };
        Object kept = e.settingsFilter.invoke(e.environmentSettings.invoke(prepared), keep);
        Object env = e.newEnvironment.newInstance(kept, e.environmentConfigFile.invoke(prepared));
        // The %node_name converter (and Elasticsearch's JSON layout) read this
        // once; it must precede configure().
        e.setNodeName.invoke(null, e.settingGet.invoke(e.nodeNameSetting(), e.environmentSettings.invoke(env)));
        e.configure.invoke(null, env);
        // The logger keeps the name the engine-specific launcher had.
        Logger log = LogManager.getLogger("org.hossadm." + e.name + ".Launcher");
        for (String key : dropped) {
            log.warn("ignoring [{}]: " + e.absentPluginReason + "; HTTP is plain and unauthenticated", key);
        }

        Object node = e.newNode.newInstance(env, e.modules, true);
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                e.nodeClose.invoke(node);
                if (!(Boolean) e.nodeAwaitClose.invoke(node, 30L, TimeUnit.SECONDS)) {
                    log.warn("node did not close within 30s");
                }
            } catch (Exception x) {
                log.error("failed to close the node cleanly",
                    x instanceof InvocationTargetException && x.getCause() != null ? x.getCause() : x);
            } finally {
                closed.countDown();
                // log4j's own hook is off (-Dlog4j.shutdownHookEnabled=false) so
                // that the node's closing lines above still reach the console.
                Configurator.shutdown((LoggerContext) LogManager.getContext(false));
            }
        }, e.name + "-shutdown"));

        e.nodeStart.invoke(node);
        // The node's own threads are daemons; this keeps the JVM up until SIGTERM.
        closed.await();
    }

    /** The engine's classes and members the launcher uses, looked up by name. */
    static final class Engine {
        final String name;
        final String propertyPrefix;
        final String configFile;
        final String absentPluginReason;
        /**
         * Settings of plugins the upstream image bundles and this one does not
         * (X-Pack, the security plugin). Compose files written for the upstream
         * image switch them off by setting them; an unknown setting would
         * otherwise stop the node at start.
         */
        final List<String> absentPluginPrefixes;
        /** What the upstream distribution loads from modules/ and a client may rely on. */
        final Collection<Class<?>> modules;

        final Method registerErrorListener, setNodeName, configure;
        final Method settingsBuilder, builderPut, builderBuild, settingsFilter, settingGet;
        final Method prepareEnvironment, environmentSettings, environmentConfigFile;
        final Constructor<?> newEnvironment, newNode;
        final Method nodeStart, nodeClose, nodeAwaitClose, settingGetKey;
        final Field pathHomeSetting, nodeNameSetting;

        private Engine(Properties p, boolean initialize) throws IOException, ReflectiveOperationException {
            name = required(p, "name");
            propertyPrefix = required(p, "property.prefix");
            configFile = required(p, "config.file");
            absentPluginReason = required(p, "absent.plugins.reason");
            absentPluginPrefixes = list(required(p, "absent.plugins.prefixes"));
            String pkg = required(p, "package");
            ClassLoader loader = Launcher.class.getClassLoader();

            Class<?> logConfigurator = Class.forName(pkg + ".common.logging.LogConfigurator", initialize, loader);
            Class<?> settings = Class.forName(pkg + ".common.settings.Settings", initialize, loader);
            Class<?> builder = Class.forName(pkg + ".common.settings.Settings$Builder", initialize, loader);
            Class<?> setting = Class.forName(pkg + ".common.settings.Setting", initialize, loader);
            Class<?> environment = Class.forName(pkg + ".env.Environment", initialize, loader);
            Class<?> preparer = Class.forName(pkg + ".node.InternalSettingsPreparer", initialize, loader);
            Class<?> node = Class.forName(pkg + ".node.Node", initialize, loader);
            Class<?> plugin = Class.forName(pkg + ".plugins.Plugin", initialize, loader);

            List<Class<?>> found = new ArrayList<>();
            for (String m : list(required(p, "modules"))) {
                Class<?> c = Class.forName(m, initialize, loader);
                if (!plugin.isAssignableFrom(c)) throw new ClassNotFoundException(m + " is not a " + plugin.getName());
                found.add(c);
            }
            modules = List.copyOf(found);

            registerErrorListener = logConfigurator.getMethod("registerErrorListener");
            setNodeName = logConfigurator.getMethod("setNodeName", String.class);
            configure = logConfigurator.getMethod("configure", environment);
            settingsBuilder = settings.getMethod("builder");
            builderPut = builder.getMethod("put", String.class, String.class);
            builderBuild = builder.getMethod("build");
            settingsFilter = settings.getMethod("filter", Predicate.class);
            settingGet = setting.getMethod("get", settings);
            settingGetKey = setting.getMethod("getKey");
            prepareEnvironment = preparer.getMethod("prepareEnvironment",
                settings, Map.class, Path.class, Supplier.class);
            environmentSettings = environment.getMethod("settings");
            environmentConfigFile = environment.getMethod("configFile");
            newEnvironment = environment.getConstructor(settings, Path.class);
            // Node's classpath-plugin constructor is protected.
            newNode = node.getDeclaredConstructor(environment, Collection.class, boolean.class);
            newNode.setAccessible(true);
            nodeStart = node.getMethod("start");
            nodeClose = node.getMethod("close");
            nodeAwaitClose = node.getMethod("awaitClose", long.class, TimeUnit.class);
            pathHomeSetting = environment.getField("PATH_HOME_SETTING");
            nodeNameSetting = node.getField("NODE_NAME_SETTING");
        }

        Object pathHomeKey() throws ReflectiveOperationException {
            return settingGetKey.invoke(pathHomeSetting.get(null));
        }

        Object nodeNameSetting() throws ReflectiveOperationException {
            return nodeNameSetting.get(null);
        }

        /** Reads engine.properties beside this class; initialize=false only looks the names up. */
        static Engine load(boolean initialize) throws IOException, ReflectiveOperationException {
            Properties p = new Properties();
            try (InputStream in = Launcher.class.getResourceAsStream("engine.properties")) {
                if (in == null) throw new IOException("no org/hossadm/search/engine.properties on the classpath");
                p.load(in);
            }
            return new Engine(p, initialize);
        }

        private static String required(Properties p, String key) throws IOException {
            String v = p.getProperty(key);
            if (v == null || v.isBlank()) throw new IOException("engine.properties lacks " + key);
            return v.trim();
        }

        private static List<String> list(String v) {
            return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        }
    }
}
