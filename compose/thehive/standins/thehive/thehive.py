# Stand-in for TheHive 5 (strangebee/thehive). Reads /etc/thehive/application.conf
# for its keyspace, index and files folder, and CASSANDRA_USER/PASSWORD from
# its environment. On start it
#   1. waits for Cassandra (CQL login with the stack's role) and Elasticsearch,
#   2. creates the keyspace and tables if missing (schema.cql),
#   3. if the index <index-name>_global is missing, creates it (index.json)
#      and indexes every case of Cassandra into it: TheHive's restore of
#      "data and files only", where the index is rebuilt, not restored,
#   4. marks itself ready (/tmp/thehive-ready, the compose healthcheck).
# Then, only while /tmp/thehive-writing exists, it creates cases. Each case
# is written in this order: the attachment file under
# <files>/<first two hex digits of the id>/<id>, then the row in
# <keyspace>.cases (holding the file's sha256), then the document in the
# index with _id = case id. So at any moment every row has its file and every
# document has its row; only the case being written may lack its document.
# The case number comes from the counter sequences['case'], taken first.
# Quiet otherwise: a start line, switch changes, a rebuild, errors.
import datetime
import hashlib
import json
import logging
import os
import random
import re
import signal
import sys
import time
import warnings
import urllib.error
import urllib.request
import uuid

logging.basicConfig(level=logging.CRITICAL)
# The driver's deprecation notes are not news to an operator reading the log.
warnings.simplefilter('ignore')

from cassandra.auth import PlainTextAuthProvider  # noqa: E402
from cassandra.cluster import Cluster  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.environ.get('THEHIVE_CONF', '/etc/thehive/application.conf')
SWITCH = '/tmp/thehive-writing'
READY = '/tmp/thehive-ready'
ES = os.environ.get('ELASTICSEARCH_URL', 'http://elasticsearch:9200')
TAGS = ['phishing', 'malware', 'ransomware', 'ioc', 'tlp:amber', 'tlp:green', 'pap:red', 'triage', 'false-positive', 'c2']

stopping = False


def log(message):
    print(f'thehive: {message}', flush=True)


def on_stop(_signum, _frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_stop)
signal.signal(signal.SIGINT, on_stop)


def pause(seconds):
    end = time.monotonic() + seconds
    while not stopping and time.monotonic() < end:
        time.sleep(min(0.25, max(0.0, end - time.monotonic())))


def read_conf():
    try:
        with open(CONF, encoding='utf-8') as f:
            text = f.read()
    except OSError as error:
        log(f'cannot read {CONF}: {error}')
        sys.exit(1)

    def key(name, default):
        m = re.search(r'^\s*' + re.escape(name) + r'\s*[=:]\s*"?([^"\s#]+)"?', text, re.M)
        return m.group(1) if m else default

    return key('keyspace', 'thehive'), key('index-name', 'thehive') + '_global', key('localfs.location', '/opt/thp/thehive/files')


def es(method, path, body=None, ndjson=False, ok=(200, 201)):
    data = None
    headers = {}
    if body is not None:
        data = body.encode('utf-8') if isinstance(body, str) else json.dumps(body).encode('utf-8')
        headers['Content-Type'] = 'application/x-ndjson' if ndjson else 'application/json'
    request = urllib.request.Request(ES + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b'null')
    except urllib.error.HTTPError as error:
        if error.code in ok:
            return error.code, json.loads(error.read() or b'null')
        return error.code, json.loads(error.read() or b'null')


def iso(ts):
    # Same spelling as JavaScript's Date.toISOString (the seed's): ms and Z.
    return ts.strftime('%Y-%m-%dT%H:%M:%S') + '.%03dZ' % (ts.microsecond // 1000)


def case_document(number, title, tags, created, attachment, sha256):
    """The index document of a case: a function of its row only, so a rebuild equals the original."""
    return {
        'number': number,
        'title': title,
        'tags': list(tags or []),
        'created': iso(created) if created is not None else None,
        'attachment': attachment,
        'sha256': sha256,
    }


def connect():
    user = os.environ.get('CASSANDRA_USER', 'thehive')
    password = os.environ.get('CASSANDRA_PASSWORD', '')
    waited = 0
    while not stopping:
        cluster = Cluster(['cassandra'], auth_provider=PlainTextAuthProvider(user, password), connect_timeout=10, control_connection_timeout=10)
        try:
            return cluster, cluster.connect()
        except Exception as error:  # not up yet, or the role not made yet
            cluster.shutdown()
            if waited % 30 == 0:
                log(f'waiting for cassandra ({str(error).splitlines()[0][:160]})')
            waited += 3
            pause(3)
    sys.exit(0)


def wait_for_elasticsearch():
    waited = 0
    while not stopping:
        try:
            status, body = es('GET', '/_cluster/health?wait_for_status=yellow&timeout=5s')
            if status == 200 and body.get('status') in ('yellow', 'green'):
                return
            reason = f'health {body.get("status")}'
        except Exception as error:
            reason = str(error)[:160]
        if waited % 30 == 0:
            log(f'waiting for elasticsearch ({reason})')
        waited += 3
        pause(3)
    sys.exit(0)


def create_schema(session, keyspace):
    with open(os.path.join(HERE, 'schema.cql'), encoding='utf-8') as f:
        text = f.read().replace('${KEYSPACE}', keyspace)
    text = '\n'.join(line for line in text.splitlines() if not line.lstrip().startswith('--'))
    for statement in (s.strip() for s in text.split(';')):
        if statement:
            session.execute(statement, timeout=60)


def rebuild_index(session, keyspace, index):
    status, _ = es('HEAD', f'/{index}', ok=(200, 404))
    if status == 200:
        return
    with open(os.path.join(HERE, 'index.json'), encoding='utf-8') as f:
        definition = json.load(f)
    status, body = es('PUT', f'/{index}', definition)
    if status != 200:
        raise RuntimeError(f'creating index {index} failed: {status} {body}')
    statement = SimpleStatement(f'SELECT id, number, title, tags, created, attachment, sha256 FROM {keyspace}.cases', fetch_size=500)
    count = 0
    lines = []

    def flush():
        if not lines:
            return
        status, body = es('POST', '/_bulk', '\n'.join(lines) + '\n', ndjson=True)
        if status != 200 or body.get('errors'):
            raise RuntimeError(f'bulk indexing into {index} failed: {status}')
        lines.clear()

    for row in session.execute(statement, timeout=60):
        lines.append(json.dumps({'index': {'_index': index, '_id': str(row.id)}}))
        lines.append(json.dumps(case_document(row.number, row.title, row.tags, row.created, row.attachment, row.sha256), ensure_ascii=False))
        count += 1
        if len(lines) >= 1000:
            flush()
    flush()
    es('POST', f'/{index}/_refresh')
    log(f'index {index} was missing: rebuilt it from cassandra, {count} cases indexed')


class Writer:
    def __init__(self, session, keyspace, index, files):
        self.session = session
        self.index = index
        self.files = files
        self.bump = session.prepare(f"UPDATE {keyspace}.sequences SET value = value + 1 WHERE name = 'case'")
        self.read = session.prepare(f"SELECT value FROM {keyspace}.sequences WHERE name = 'case'")
        self.insert = session.prepare(
            f'INSERT INTO {keyspace}.cases (id, number, title, tags, created, attachment, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)'
        )
        self.random = random.Random()

    def create_case(self):
        self.session.execute(self.bump)
        number = self.session.execute(self.read).one().value
        case_id = uuid.uuid4()
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        created = now.replace(microsecond=(now.microsecond // 1000) * 1000)
        title = f'Case #{number}: alerte sur hôte {number % 97} – 調査'
        tags = sorted(self.random.sample(TAGS, self.random.randint(0, 3)))
        content = os.urandom(self.random.randint(64, 4096))
        sha256 = hashlib.sha256(content).hexdigest()
        attachment = f'evidence-{number}.bin'
        # 1. the file
        folder = os.path.join(self.files, str(case_id)[:2])
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, str(case_id)), 'wb') as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        # 2. the row
        self.session.execute(self.insert, (case_id, number, title, set(tags), created, attachment, sha256))
        # 3. the document
        status, body = es('PUT', f'/{self.index}/_doc/{case_id}', case_document(number, title, tags, created, attachment, sha256))
        if status not in (200, 201):
            raise RuntimeError(f'indexing case {case_id} failed: {status} {body}')


def main():
    for stale in (READY, SWITCH):
        try:
            os.unlink(stale)
        except FileNotFoundError:
            pass
    keyspace, index, files = read_conf()
    version = os.environ.get('THEHIVE_VERSION', '?')
    log(f'{version} starting: keyspace {keyspace}, index {index}, files {files}')
    cluster, session = connect()
    wait_for_elasticsearch()
    while not stopping:
        try:
            create_schema(session, keyspace)
            rebuild_index(session, keyspace, index)
            break
        except Exception as error:
            log(f'start-up step failed, retrying: {str(error).splitlines()[0][:200]}')
            pause(5)
    writer = Writer(session, keyspace, index, files)
    open(READY, 'w').close()
    log('ready')
    writing = False
    while not stopping:
        if os.path.exists(SWITCH):
            if not writing:
                log('writing')
                writing = True
            try:
                writer.create_case()
            except Exception as error:
                log(f'creating a case failed: {str(error).splitlines()[0][:200]}')
                pause(1)
            pause(0.05)
        else:
            if writing:
                log('quiet')
                writing = False
            pause(0.5)
    cluster.shutdown()
    log('stopped')


if __name__ == '__main__':
    main()
