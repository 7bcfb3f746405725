# Makes the stack's login role on a node that lacks it, as the Postgres image
# makes POSTGRES_USER: runs beside Cassandra (entrypoint.sh), waits for CQL,
# then
#   - logs in as CASSANDRA_USER with CASSANDRA_PASSWORD: the role exists, done;
#   - else logs in with the default superuser cassandra/cassandra (a fresh
#     node, or a restored one whose system_auth was not restored), creates
#     CASSANDRA_USER as a login superuser, and, logged in as that role, gives
#     the default role a random password and takes its login away.
# Credentials come from the environment only, never from argv. On success it
# leaves /tmp/cassandra-role-ready for the healthcheck.
import logging
import os
import secrets
import socket
import string
import sys
import time
import warnings

logging.basicConfig(level=logging.CRITICAL)
# The driver's deprecation notes are not news to an operator reading the log.
warnings.simplefilter('ignore')

from cassandra import AuthenticationFailed  # noqa: E402
from cassandra.auth import PlainTextAuthProvider  # noqa: E402
from cassandra.cluster import Cluster, NoHostAvailable  # noqa: E402
from cassandra.policies import WhiteListRoundRobinPolicy  # noqa: E402

MARK = '/tmp/cassandra-role-ready'
USER = os.environ.get('CASSANDRA_USER', '')
PASSWORD = os.environ.get('CASSANDRA_PASSWORD', '')


def log(message):
    print(f'cassandra-init: {message}', file=sys.stderr, flush=True)


def quoted(value):
    return "'" + value.replace("'", "''") + "'"


def auth_failed(error):
    if isinstance(error, AuthenticationFailed):
        return True
    if isinstance(error, NoHostAvailable):
        return any(isinstance(e, AuthenticationFailed) or 'AuthenticationFailed' in repr(e) or 'Bad credentials' in repr(e) for e in error.errors.values())
    return False


def session_as(host, user, password):
    cluster = Cluster([host], auth_provider=PlainTextAuthProvider(user, password), load_balancing_policy=WhiteListRoundRobinPolicy([host]),
                      connect_timeout=10, control_connection_timeout=10)
    try:
        return cluster, cluster.connect()
    except Exception:
        cluster.shutdown()
        raise


def main():
    if not USER or not PASSWORD:
        log('CASSANDRA_USER or CASSANDRA_PASSWORD is not set; no role made')
        open(MARK, 'w').close()
        return
    host = socket.gethostbyname(socket.gethostname())
    tries = 0
    while True:
        tries += 1
        try:
            cluster, _ = session_as(host, USER, PASSWORD)
            cluster.shutdown()
            break
        except Exception as error:
            if not auth_failed(error):
                if tries % 10 == 1:
                    log(f'waiting for CQL on {host}:9042')
                time.sleep(3)
                continue
        # The role does not exist (or has another password): use the default superuser.
        try:
            cluster, session = session_as(host, 'cassandra', 'cassandra')
        except Exception as error:
            # The default role appears some seconds after CQL opens; a node
            # whose default login is already disabled and has no such role
            # cannot be helped from here.
            if tries % 10 == 1:
                log(f'neither {USER} nor the default superuser can log in yet ({type(error).__name__}); retrying')
            time.sleep(3)
            continue
        try:
            session.execute(f'CREATE ROLE IF NOT EXISTS {USER} WITH PASSWORD = {quoted(PASSWORD)} AND SUPERUSER = true AND LOGIN = true', timeout=30)
        finally:
            cluster.shutdown()
        time.sleep(1)
        try:
            cluster, session = session_as(host, USER, PASSWORD)
        except Exception as error:
            log(f'role {USER} exists but its login fails ({type(error).__name__}); is .env from another installation?')
            time.sleep(10)
            continue
        try:
            random_password = ''.join(secrets.choice(string.ascii_letters + string.digits) for _ in range(48))
            session.execute(f'ALTER ROLE cassandra WITH PASSWORD = {quoted(random_password)} AND LOGIN = false', timeout=30)
        finally:
            cluster.shutdown()
        log(f'created role {USER}; the default role cassandra can no longer log in')
        break
    open(MARK, 'w').close()
    log(f'role {USER} ready')


main()
