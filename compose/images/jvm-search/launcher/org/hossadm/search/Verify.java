package org.hossadm.search;

/**
 * Build-time check of the launcher against the engine's jars: every class,
 * method and module engine.properties names must exist (what the compiler
 * checked when each engine had a launcher of its own). Loads nothing else.
 *   java -cp '<lib>/*' org.hossadm.search.Verify
 */
public final class Verify {
    private Verify() {}

    public static void main(String[] args) throws Exception {
        Launcher.Engine e = Launcher.Engine.load(false);
        System.out.println(e.name + ": launcher resolves " + e.modules.size() + " modules and "
            + e.configFile + " handling");
    }
}
