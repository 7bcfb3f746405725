# Sourced (bash) by the launchers in /opt/cassandra/bin: paths, the class
# path and the options-file reader shared by the server and the tools.
CASSANDRA_HOME=${CASSANDRA_HOME:-/opt/cassandra}
CASSANDRA_CONF=${CASSANDRA_CONF:-/etc/cassandra}
CLASSPATH=$CASSANDRA_CONF:$CASSANDRA_HOME/lib/*
JAVA=java
if [ -n "${JAVA_HOME:-}" ]; then JAVA=$JAVA_HOME/bin/java; fi

# read_jvm_options <file>...: appends the lines starting with '-' to the
# array jvm_opts (comments, blank lines and anything else are skipped).
read_jvm_options() {
  local f line
  for f in "$@"; do
    [ -f "$f" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do
      line=${line%%[[:space:]]}
      case $line in -*) jvm_opts+=("$line") ;; esac
    done <"$f"
  done
}
