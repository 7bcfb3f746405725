// `hossadm init` names an S3 server but writes no objectstore instance: its
// storage is copied as files with the other volumes and folders.
import type { ServiceRecogniser } from '../recogniser.ts';

export const s3Recogniser: ServiceRecogniser = {
  name: 's3',
  title: 'an S3 server',
  images: [/^(minio|seaweedfs|garage|localstack|s3proxy|zenko|cloudserver|ceph)/],
  labels: ['s3'],
  asFiles: 'its storage is copied as files while it is stopped; buckets on a remote S3 are not backed up',
};
