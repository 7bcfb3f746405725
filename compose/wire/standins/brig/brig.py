# Stand-in for Wire's brig (user accounts). On start it waits for the
# Cassandra cluster (both nodes) and for the keyspace brig, which the
# schema step (`compose/stack --stack wire seed`, as Wire's brig-schema job)
# creates, then marks itself ready (/tmp/brig-ready). Only while
# /tmp/brig-writing exists it creates users, each in this order: the user's
# asset (an avatar) into the object store bucket S3_BUCKET under
# users/<id>/avatar with content type, metadata and a tag, then the row in
# brig.user naming that asset key (written at consistency ALL). So at any
# moment every row's asset exists. The S3 keys come from the environment;
# requests are signed with AWS Signature Version 4 by hand (no SDK here).
import datetime
import hashlib
import hmac
import logging
import os
import random
import signal
import time
import urllib.parse
import urllib.request
import uuid
import warnings

logging.basicConfig(level=logging.CRITICAL)
warnings.simplefilter('ignore')

from cassandra import ConsistencyLevel  # noqa: E402
from cassandra.cluster import Cluster  # noqa: E402
from cassandra.query import SimpleStatement  # noqa: E402

SWITCH = '/tmp/brig-writing'
READY = '/tmp/brig-ready'
ENDPOINT = os.environ.get('S3_ENDPOINT', 'http://objectstore:9000')
REGION = os.environ.get('S3_REGION', 'us-east-1')
BUCKET = os.environ.get('S3_BUCKET', 'assets')
ACCESS = os.environ.get('S3_ACCESS_KEY', '')
SECRET = os.environ.get('S3_SECRET_KEY', '')
HOSTS = os.environ.get('CASSANDRA_HOSTS', 'cassandra1,cassandra2').split(',')

stopping = False


def log(message):
    print(f'brig: {message}', flush=True)


def on_stop(_signum, _frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_stop)
signal.signal(signal.SIGINT, on_stop)


def pause(seconds):
    end = time.monotonic() + seconds
    while not stopping and time.monotonic() < end:
        time.sleep(min(0.25, max(0.0, end - time.monotonic())))


def _sign(key, text):
    return hmac.new(key, text.encode('utf-8'), hashlib.sha256).digest()


def s3_put(key, body, content_type, metadata, tags):
    """PUT one object, signed with SigV4 (path-style URL)."""
    host = urllib.parse.urlparse(ENDPOINT).netloc
    path = '/' + BUCKET + '/' + urllib.parse.quote(key, safe='/-_.~')
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime('%Y%m%dT%H%M%SZ')
    day = now.strftime('%Y%m%d')
    payload = hashlib.sha256(body).hexdigest()
    headers = {
        'content-type': content_type,
        'host': host,
        'x-amz-content-sha256': payload,
        'x-amz-date': amz_date,
        'x-amz-tagging': urllib.parse.urlencode(tags),
    }
    for name, value in metadata.items():
        headers['x-amz-meta-' + name] = value
    names = sorted(headers)
    canonical = '\n'.join(['PUT', path, '', ''.join(f'{n}:{headers[n].strip()}\n' for n in names), ';'.join(names), payload])
    scope = f'{day}/{REGION}/s3/aws4_request'
    to_sign = '\n'.join(['AWS4-HMAC-SHA256', amz_date, scope, hashlib.sha256(canonical.encode('utf-8')).hexdigest()])
    k = _sign(('AWS4' + SECRET).encode('utf-8'), day)
    k = _sign(k, REGION)
    k = _sign(k, 's3')
    k = _sign(k, 'aws4_request')
    signature = hmac.new(k, to_sign.encode('utf-8'), hashlib.sha256).hexdigest()
    headers['authorization'] = f'AWS4-HMAC-SHA256 Credential={ACCESS}/{scope}, SignedHeaders={";".join(names)}, Signature={signature}'
    del headers['host']
    request = urllib.request.Request(ENDPOINT + path, data=body, method='PUT', headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def connect():
    while not stopping:
        try:
            cluster = Cluster(HOSTS, port=9042, connect_timeout=10, control_connection_timeout=10)
            session = cluster.connect()
            rows = session.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = 'brig' AND table_name = 'user'")
            if rows.one() is not None and len(cluster.metadata.all_hosts()) >= len(HOSTS):
                return cluster, session
            cluster.shutdown()
        except Exception:  # noqa: BLE001 - the cluster is not there yet
            pass
        pause(3)
    return None, None


def create_user(session, insert):
    user = uuid.uuid4()
    key = f'users/{user}/avatar'
    body = os.urandom(random.randint(512, 4096))
    s3_put(key, body, 'image/png', {'user': str(user)}, {'kind': 'avatar'})
    session.execute(insert, (user, f'user-{str(user)[:8]}', f'{str(user)[:8]}@example.com', key, datetime.datetime.now(datetime.timezone.utc)))


def main():
    log('starting')
    cluster, session = connect()
    if session is None:
        return
    insert = session.prepare('INSERT INTO brig.user (id, name, email, asset_key, created) VALUES (?, ?, ?, ?, ?)')
    insert.consistency_level = ConsistencyLevel.ALL
    open(READY, 'w').close()
    log('ready')
    writing = False
    while not stopping:
        now = os.path.exists(SWITCH)
        if now != writing:
            writing = now
            log('writing users' if writing else 'idle')
        if not writing:
            pause(0.5)
            continue
        try:
            create_user(session, insert)
        except Exception as error:  # noqa: BLE001 - keep going, as a service would
            log(f'write failed: {error}')
            pause(1)
        pause(0.05)
    cluster.shutdown()
    log('stopped')


if __name__ == '__main__':
    main()
